"""HTML pages: ``portal`` (citizens) and ``office`` (clerks and department staff)."""
