"""federation: the Azure Data Share layer of a federated-learning consortium, as Pulumi code."""
