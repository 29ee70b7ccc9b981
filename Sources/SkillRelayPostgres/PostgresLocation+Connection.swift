import Logging
import PostgresNIO

extension PostgresLocation {
    /// One connection of its own to this database, opened, given to `body` and closed again: for what cannot run in a
    /// transaction or through the pool (`CREATE DATABASE`, `DROP DATABASE`, `ANALYZE` after a bulk load).
    public func withConnection<T: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        var configuration = try connectionConfiguration()
        configuration.options.connectTimeout = .seconds(10)
        let connection = try await PostgresConnection.connect(
            on: PostgresClient.defaultEventLoopGroup.any(), configuration: configuration, id: 0, logger: logger
        ).get()
        do {
            let value = try await body(connection)
            try await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
