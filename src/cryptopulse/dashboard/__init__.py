"""The web dashboard (Streamlit + Plotly) over the published version: markets, social, price vs sentiment, data health."""
