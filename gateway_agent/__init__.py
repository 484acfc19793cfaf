"""The software on the Home Energy Box. Imports nothing from config/ or apps/."""
