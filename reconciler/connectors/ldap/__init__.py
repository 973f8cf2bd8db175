"""The LDAP connector: an OpenLDAP directory as a connected system (Active Directory specifics later).

``connector`` holds the class the ``reconciler.connectors`` entry point names; the other modules each
hold one idea: ``settings`` (the playbook keys), ``directory`` (one bound ldap3 connection and the
translation of its failures), ``schema`` (the server's subschema), ``values`` (LDAP values ↔ engine
values), ``dn`` (distinguished names), ``delta`` (changes since a watermark, from the accesslog) and
``export`` (a batch of changes applied as LDAP operations).

Nothing here imports ldap3 at module level except modules only an ldap connector loads, so importing
the CLI never costs the LDAP client.
"""
