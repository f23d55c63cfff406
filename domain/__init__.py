"""The domain: tutor, LLM client, analysis, consolidation, pricing, embeddings, rate limits.

Plain Python shared by the API and the worker; it imports no FastAPI, Faust or aiokafka.
"""
