"""The Wootric REST API v1 client: typed errors, token handling, rate limits, the timestamp walk.

Import each name from the module that defines it (`desktop_app.api.client.WootricClient`): the
package re-exports nothing, so the errors and credentials load without httpx (0.15 s).
"""
