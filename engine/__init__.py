"""Scout's engine: algorithms, the daily training pipeline and the Recommender facade."""
