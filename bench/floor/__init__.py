"""A bare Django site, the floor of bench/http.py: what ``django-admin startproject`` gives
(its settings, its middleware), plus one constant view. Nothing of sdgscore is imported."""
