"""The graph connector: Microsoft Entra ID through Microsoft Graph (msgraph-sdk, azure-identity).

The SDK is imported only inside functions that run when a graph connector talks to Graph.
"""
