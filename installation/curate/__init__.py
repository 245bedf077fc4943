"""Curator and artist tools: preview, contact sheets, new shows, the archive, the demo painter."""
