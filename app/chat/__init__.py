"""The conversation service: the one place where a chat turn is built.

Every front end (the window's worker, the CLI, later the API server) turns user actions
into calls of ``ConversationService`` and its events into pixels, text or HTTP. The
service loads the conversation's active path and settings, builds a history that always
alternates roles, grounds the turn in documents, streams the engine's events and saves
the answer as it goes. Nothing here imports Qt.
"""
