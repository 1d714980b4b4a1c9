"""The local OpenAI-compatible API (`lantern serve`): a front end over the conversation
service, like the window and the CLI. ``server.create_app`` builds the Starlette app."""
