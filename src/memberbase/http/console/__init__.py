"""Member Care: the staff console, server-rendered (Jinja2), served by memberbase itself."""
