"""Joint monitoring & evaluation: interventions, results frameworks, progress rules, storage, exchange.

No Streamlit here: pages render what these modules compute (see ``mmicd/ui/me_*.py``).
"""
