import Foundation

/// A ``RepositoryStore`` in an SQLite file: durable, and shared by every process that opens the same file.
///
/// Each repository is one row of the `repositories` table: its id and a JSON document holding the rest
/// (repositories are few and always read whole). An update reads, changes and writes the row inside one
/// write transaction, so concurrent updates from any process never lose each other's changes.
public final class SQLiteRepositoryStore: RepositoryStore {
    private let executor: SQLiteExecutor

    /// Opens (creating if needed) the repository table in the database file at `path`.
    public convenience init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        try self.init(executor: SQLiteExecutor(path: path, synchronous: synchronous))
    }

    /// Uses the repository table of an open database, migrating it to the current schema.
    package init(executor: SQLiteExecutor) throws {
        self.executor = executor
        try executor.database.migrate(Self.schema)
    }

    static let schema: SQLiteSchema = {
        var schema = SQLiteSchema(store: "repositories")
        schema.registerMigration(
            "create repositories",
            sql: "CREATE TABLE repositories (id TEXT PRIMARY KEY, document TEXT NOT NULL) WITHOUT ROWID;"
        )
        return schema
    }()

    /// Stores a new repository; a 409 when the id is taken.
    public func create(_ repository: Repository) async throws {
        let document = repository.storedDocument.encoded()
        try await executor.write { connection in
            let inserted = try connection.execute(
                "INSERT INTO repositories (id, document) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                [.text(repository.id.rawValue), .text(document)]
            )
            if inserted == 0 { throw Repository.duplicate(repository.id) }
        }
    }

    /// The repository with `id`, or `nil`.
    public func repository(_ id: RepositoryID) async throws -> Repository? {
        try await executor.read { connection in
            try connection.firstRow("SELECT document FROM repositories WHERE id = ?", [.text(id.rawValue)]) {
                try Repository(storedDocument: $0.text(0))
            }
        }
    }

    /// The repositories whose JSON matches `criteria`, ordered by id unless it sorts.
    public func repositories(matching criteria: Criteria) async throws -> [Repository] {
        let all = try await executor.read { connection in
            try connection.rows("SELECT document FROM repositories ORDER BY id", []) {
                try Repository(storedDocument: $0.text(0))
            }
        }
        return Repository.select(all, matching: criteria)
    }

    /// Applies `change` to the stored repository in one transaction; a 404 when it does not exist.
    public func update(
        _ id: RepositoryID,
        _ change: @escaping @Sendable (inout Repository) throws -> Void
    ) async throws -> Repository {
        try await executor.write { connection in
            guard
                var repository = try connection.firstRow(
                    "SELECT document FROM repositories WHERE id = ?",
                    [.text(id.rawValue)],
                    { try Repository(storedDocument: $0.text(0)) }
                )
            else { throw Repository.missing(id) }
            try change(&repository)
            repository.id = id
            try connection.execute(
                "UPDATE repositories SET document = ? WHERE id = ?",
                [.text(repository.storedDocument.encoded()), .text(id.rawValue)]
            )
            return repository
        }
    }

    /// Removes the repository; returns whether it existed.
    public func delete(_ id: RepositoryID) async throws -> Bool {
        try await executor.write { connection in
            try connection.execute("DELETE FROM repositories WHERE id = ?", [.text(id.rawValue)]) > 0
        }
    }
}

extension Repository {
    /// The repository as the SQLite store keeps it: every field, dates as seconds since 1970.
    var storedDocument: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id.rawValue),
            "display_name": .string(displayName),
            "notes": .object(notes),
            "content_unit_counts": .object(contentUnitCounts.mapValues { .int($0) }),
        ]
        object["description"] = description.map(JSONValue.string)
        object["last_unit_added"] = lastUnitAdded.map { .double($0.timeIntervalSince1970) }
        object["last_unit_removed"] = lastUnitRemoved.map { .double($0.timeIntervalSince1970) }
        if let importer {
            var stored: [String: JSONValue] = [
                "type_id": .string(importer.typeID),
                "config": .object(importer.configuration),
                "last_override_config": .object(importer.lastOverrideConfig),
                "scratchpad": importer.scratchpad,
            ]
            stored["last_sync"] = importer.lastSync.map { .double($0.timeIntervalSince1970) }
            stored["last_updated"] = importer.lastUpdated.map { .double($0.timeIntervalSince1970) }
            object["importer"] = .object(stored)
        }
        return .object(object)
    }

    /// Reads a stored document back; a 500 naming the repository when it is damaged.
    init(storedDocument text: String) throws {
        let document = try JSONValue(parsing: text)
        guard let id = document["id"]?.stringValue else {
            throw PulpError.internalError("a stored repository has no id: \(text.prefix(200))")
        }
        func date(_ value: JSONValue?) -> Date? { value?.doubleValue.map(Date.init(timeIntervalSince1970:)) }
        var importer: RepositoryImporter?
        if let stored = document["importer"], let typeID = stored["type_id"]?.stringValue {
            importer = RepositoryImporter(
                typeID: typeID,
                configuration: stored["config"]?.objectValue ?? [:],
                lastSync: date(stored["last_sync"]),
                lastOverrideConfig: stored["last_override_config"]?.objectValue ?? [:],
                scratchpad: stored["scratchpad"] ?? .null,
                lastUpdated: date(stored["last_updated"])
            )
        }
        self.init(
            id: RepositoryID(id),
            displayName: document["display_name"]?.stringValue,
            description: document["description"]?.stringValue,
            notes: document["notes"]?.objectValue ?? [:],
            importer: importer,
            contentUnitCounts: (document["content_unit_counts"]?.objectValue ?? [:]).compactMapValues(\.intValue),
            lastUnitAdded: date(document["last_unit_added"]),
            lastUnitRemoved: date(document["last_unit_removed"])
        )
    }
}
