"""The conversation layer: intent router, slots, dialogs and replies."""
