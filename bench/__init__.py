"""Load benchmark of the site: a large data set, gunicorn, a load generator and a report."""
