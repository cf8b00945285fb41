"""Django helpers shared by several apps (rate limits, primary-key URLs); below every app."""
