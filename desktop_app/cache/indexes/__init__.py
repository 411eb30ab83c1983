"""The indexes beside `end_user`: expression indexes on two chosen properties and the shared SQL
expressions (`expressions`), the key/value property side table (`properties`) and the FTS5
trigram search over email and external id (`search`), each with its build and its triggers.
"""
