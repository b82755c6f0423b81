// One throwaway PostgreSQL server for the whole run; each test that needs it creates its own database.
[assembly: AssemblyFixture(typeof(Outpost.Testing.PostgresServer))]
