"""Cleaning: column mapping and value recoding (:mod:`mapping`), validation (:mod:`validate`)."""
