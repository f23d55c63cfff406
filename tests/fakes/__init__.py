"""Test doubles that are real servers, not mocks."""
