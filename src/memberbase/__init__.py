"""memberbase: a self-hosted loyalty customer registry speaking the hosted CRM's APIs."""

__version__ = "0.1.0"
