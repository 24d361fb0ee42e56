"""The Slack adapter: a slack-bolt app over the same Advisor and Store as the web app (HTTP or Socket Mode)."""
