"""The reports capability (registers its commands, actions, forms and due items on import)."""
