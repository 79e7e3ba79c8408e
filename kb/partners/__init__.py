"""The partners' network in the answers: the partner directory as a service, matching organisations to a
question with the embedding model, and the starter directory loaded on first run."""
