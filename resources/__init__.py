"""Data files shipped with Privacy Inspector: demo profiles, policy, knowledge base."""
