/// A ``ConsumerStore`` in an SQLite file: durable, and shared by every process that opens the same file.
///
/// Consumers live in `consumers`, with their profile set hash kept up to date in the same transaction as every
/// profile change; profiles in `consumer_profiles` and bindings in `consumer_bindings` are deleted with their
/// consumer by foreign keys. A binding without a distributor is stored with an empty `distributor_id`.
public final class SQLiteConsumerStore: ConsumerStore {
    private let executor: SQLiteExecutor

    /// Opens (creating if needed) the consumer tables in the database file at `path`.
    ///
    /// With `.normal` (the default) every change is committed before it is reported and survives the process
    /// crashing; `.full` also survives a power loss, at an fsync per group commit.
    public convenience init(path: String, synchronous: SQLiteSynchronous = .normal) throws {
        try self.init(executor: SQLiteExecutor(path: path, synchronous: synchronous))
    }

    /// Uses the consumer tables of an open database (shared with other stores through its executor),
    /// migrating them to the current schema.
    package init(executor: SQLiteExecutor) throws {
        self.executor = executor
        try executor.database.migrate(Self.schema)
    }

    static let schema: SQLiteSchema = {
        var schema = SQLiteSchema(store: "consumers")
        schema.registerMigration(
            "create consumers, consumer_profiles, consumer_bindings",
            sql: """
                CREATE TABLE consumers (
                    id TEXT PRIMARY KEY,
                    display_name TEXT NOT NULL,
                    description TEXT,
                    notes TEXT NOT NULL,
                    profile_set_hash TEXT
                ) WITHOUT ROWID;
                CREATE INDEX consumers_profile_set ON consumers (profile_set_hash);
                CREATE TABLE consumer_profiles (
                    consumer_id TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
                    content_type TEXT NOT NULL,
                    profile TEXT NOT NULL,
                    profile_hash TEXT NOT NULL,
                    is_empty INTEGER NOT NULL,
                    PRIMARY KEY (consumer_id, content_type)
                ) WITHOUT ROWID;
                CREATE TABLE consumer_bindings (
                    consumer_id TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
                    repo_id TEXT NOT NULL,
                    distributor_id TEXT NOT NULL,
                    notify_agent INTEGER NOT NULL,
                    binding_config TEXT NOT NULL,
                    PRIMARY KEY (consumer_id, repo_id, distributor_id)
                ) WITHOUT ROWID;
                CREATE INDEX consumer_bindings_repository ON consumer_bindings (repo_id, consumer_id);
                """
        )
        return schema
    }()

    // MARK: - Consumers

    /// Stores a new consumer; a 409 when the id is taken.
    public func register(_ consumer: Consumer) async throws {
        try await executor.write { connection in
            let inserted = try connection.execute(
                """
                INSERT INTO consumers (id, display_name, description, notes) VALUES (?, ?, ?, ?)
                ON CONFLICT (id) DO NOTHING
                """,
                [
                    .text(consumer.id.rawValue), .text(consumer.displayName), .optionalText(consumer.description),
                    .text(JSONValue.object(consumer.notes).encoded()),
                ]
            )
            if inserted == 0 { throw Consumer.duplicate(consumer.id) }
        }
    }

    /// The consumer with `id`, or `nil`.
    public func consumer(_ id: ConsumerID) async throws -> Consumer? {
        try await executor.read { connection in
            try connection.firstRow(
                "SELECT id, display_name, description, notes FROM consumers WHERE id = ?",
                [.text(id.rawValue)],
                Self.consumer
            )
        }
    }

    /// The consumers whose JSON matches `criteria`, ordered by id unless it sorts.
    public func consumers(matching criteria: Criteria) async throws -> [Consumer] {
        let all = try await executor.read { connection in
            try connection.rows("SELECT id, display_name, description, notes FROM consumers", [], Self.consumer)
        }
        return Consumer.select(all.sorted { $0.id < $1.id }, matching: criteria)
    }

    /// Applies `change` to the stored consumer atomically; a 404 when it does not exist.
    public func update(
        _ id: ConsumerID,
        _ change: @escaping @Sendable (inout Consumer) throws -> Void
    ) async throws -> Consumer {
        try await executor.write { connection in
            guard
                var consumer = try connection.firstRow(
                    "SELECT id, display_name, description, notes FROM consumers WHERE id = ?",
                    [.text(id.rawValue)],
                    Self.consumer
                )
            else { throw Consumer.missing(id) }
            try change(&consumer)
            consumer.id = id
            try connection.execute(
                "UPDATE consumers SET display_name = ?, description = ?, notes = ? WHERE id = ?",
                [
                    .text(consumer.displayName), .optionalText(consumer.description),
                    .text(JSONValue.object(consumer.notes).encoded()), .text(id.rawValue),
                ]
            )
            return consumer
        }
    }

    /// Removes the consumer with its profiles and bindings; returns whether it existed.
    public func delete(_ id: ConsumerID) async throws -> Bool {
        try await executor.write { connection in
            try connection.execute("DELETE FROM consumers WHERE id = ?", [.text(id.rawValue)]) > 0
        }
    }

    // MARK: - Profiles

    /// Stores `profile`, replacing the consumer's profile of the same type; a 404 for an unknown consumer.
    public func setProfile(_ profile: UnitProfile) async throws {
        try await executor.write { connection in
            try Self.requireConsumer(profile.consumerID, in: connection)
            try connection.execute(
                """
                INSERT INTO consumer_profiles (consumer_id, content_type, profile, profile_hash, is_empty)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (consumer_id, content_type) DO UPDATE SET
                    profile = excluded.profile, profile_hash = excluded.profile_hash, is_empty = excluded.is_empty
                """,
                [
                    .text(profile.consumerID.rawValue), .text(profile.contentType), .text(profile.profile.encoded()),
                    .text(profile.profileHash), .bool(profile.isEmpty),
                ]
            )
            try Self.refreshProfileSet(of: profile.consumerID, in: connection)
        }
    }

    /// Removes the consumer's profile of `contentType`; returns whether it had one.
    public func removeProfile(contentType: String, of consumer: ConsumerID) async throws -> Bool {
        try await executor.write { connection in
            try Self.requireConsumer(consumer, in: connection)
            let removed = try connection.execute(
                "DELETE FROM consumer_profiles WHERE consumer_id = ? AND content_type = ?",
                [.text(consumer.rawValue), .text(contentType)]
            )
            try Self.refreshProfileSet(of: consumer, in: connection)
            return removed > 0
        }
    }

    /// The consumer's profiles, ordered by content type; a 404 for an unknown consumer.
    public func profiles(of consumer: ConsumerID) async throws -> [UnitProfile] {
        try await executor.read { connection in
            try Self.requireConsumer(consumer, in: connection)
            return try Self.profiles(of: consumer, in: connection, nonEmptyOnly: false)
        }
    }

    // MARK: - Bindings

    /// Stores `binding`, replacing one with the same repository and distributor; returns whether it is new.
    public func bind(_ binding: ConsumerBinding) async throws -> Bool {
        try await executor.write { connection in
            try Self.requireConsumer(binding.consumerID, in: connection)
            let key: [SQLiteValue] = [
                .text(binding.consumerID.rawValue), .text(binding.repositoryID.rawValue),
                .text(binding.distributorID ?? ""),
            ]
            let existed =
                try connection.firstRow(
                    "SELECT 1 FROM consumer_bindings WHERE consumer_id = ? AND repo_id = ? AND distributor_id = ?",
                    key
                ) { _ in true } ?? false
            try connection.execute(
                """
                INSERT INTO consumer_bindings (consumer_id, repo_id, distributor_id, notify_agent, binding_config)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (consumer_id, repo_id, distributor_id) DO UPDATE SET
                    notify_agent = excluded.notify_agent, binding_config = excluded.binding_config
                """,
                key + [.bool(binding.notifyAgent), .text(JSONValue.object(binding.bindingConfig).encoded())]
            )
            return !existed
        }
    }

    /// Removes the consumer's bindings to `repository` (only the one with `distributorID` unless it is `nil`).
    public func unbind(
        _ consumer: ConsumerID,
        from repository: RepositoryID,
        distributorID: String?
    ) async throws
        -> Int
    {
        try await executor.write { connection in
            try Self.requireConsumer(consumer, in: connection)
            if let distributorID {
                return try connection.execute(
                    "DELETE FROM consumer_bindings WHERE consumer_id = ? AND repo_id = ? AND distributor_id = ?",
                    [.text(consumer.rawValue), .text(repository.rawValue), .text(distributorID)]
                )
            }
            return try connection.execute(
                "DELETE FROM consumer_bindings WHERE consumer_id = ? AND repo_id = ?",
                [.text(consumer.rawValue), .text(repository.rawValue)]
            )
        }
    }

    /// The consumer's bindings, ordered by repository then distributor; a 404 for an unknown consumer.
    public func bindings(of consumer: ConsumerID) async throws -> [ConsumerBinding] {
        try await executor.read { connection in
            try Self.requireConsumer(consumer, in: connection)
            return try connection.rows(
                """
                SELECT repo_id, distributor_id, notify_agent, binding_config FROM consumer_bindings
                WHERE consumer_id = ? ORDER BY repo_id, distributor_id
                """,
                [.text(consumer.rawValue)]
            ) { row in
                let distributor = row.text(1)
                return ConsumerBinding(
                    consumerID: consumer,
                    repositoryID: RepositoryID(row.text(0)),
                    distributorID: distributor.isEmpty ? nil : distributor,
                    notifyAgent: row.bool(2),
                    bindingConfig: try JSONValue(parsing: row.text(3)).objectValue ?? [:]
                )
            }
        }
    }

    /// Removes every binding to `repository`; returns how many.
    public func removeBindings(to repository: RepositoryID) async throws -> Int {
        try await executor.write { connection in
            try connection.execute("DELETE FROM consumer_bindings WHERE repo_id = ?", [.text(repository.rawValue)])
        }
    }

    // MARK: - Applicability

    /// The summaries of the consumers among `consumers` that exist, in the order given.
    public func summaries(of consumers: [ConsumerID]) async throws -> [ConsumerProfileSummary] {
        try await executor.read { connection in
            let all = try Self.summaries(in: connection, only: consumers.count > 64 ? nil : consumers)
            return consumers.compactMap { all[$0] }
        }
    }

    /// The summaries of every consumer bound to one of `repositories`, ordered by consumer id.
    public func summaries(boundTo repositories: Set<RepositoryID>) async throws -> [ConsumerProfileSummary] {
        try await executor.read { connection in
            var ids: Set<ConsumerID> = []
            for repository in repositories {
                try connection.query(
                    "SELECT consumer_id FROM consumer_bindings WHERE repo_id = ?",
                    [.text(repository.rawValue)]
                ) { ids.insert(ConsumerID($0.text(0))) }
            }
            let sorted = ids.sorted()
            let all = try Self.summaries(in: connection, only: sorted.count > 64 ? nil : sorted)
            return sorted.compactMap { all[$0] }
        }
    }

    /// The repositories some consumer whose profile set has `hash` is bound to.
    public func repositories(boundWithProfileSet hash: String) async throws -> Set<RepositoryID> {
        try await executor.read { connection in
            Set(
                try connection.rows(
                    """
                    SELECT DISTINCT b.repo_id FROM consumers c JOIN consumer_bindings b ON b.consumer_id = c.id
                    WHERE c.profile_set_hash = ?
                    """,
                    [.text(hash)]
                ) { RepositoryID($0.text(0)) }
            )
        }
    }

    /// For each of `hashes` some consumer has, that consumer's non-empty profiles, ordered by content type.
    public func profileSets(_ hashes: Set<String>) async throws -> [String: [UnitProfile]] {
        try await executor.read { connection in
            var result: [String: [UnitProfile]] = [:]
            for hash in hashes {
                guard
                    let member = try connection.firstRow(
                        "SELECT id FROM consumers WHERE profile_set_hash = ? ORDER BY id LIMIT 1",
                        [.text(hash)],
                        { ConsumerID($0.text(0)) }
                    )
                else { continue }
                result[hash] = try Self.profiles(of: member, in: connection, nonEmptyOnly: true)
            }
            return result
        }
    }

    // MARK: - Rows

    private static func consumer(_ row: SQLiteRow) throws -> Consumer {
        Consumer(
            id: ConsumerID(row.text(0)),
            displayName: row.text(1),
            description: row.optionalText(2),
            notes: try JSONValue(parsing: row.text(3)).objectValue ?? [:]
        )
    }

    private static func requireConsumer(_ id: ConsumerID, in connection: SQLiteConnection) throws {
        let exists = try connection.firstRow("SELECT 1 FROM consumers WHERE id = ?", [.text(id.rawValue)]) { _ in true }
        if exists == nil { throw Consumer.missing(id) }
    }

    private static func profiles(
        of consumer: ConsumerID,
        in connection: SQLiteConnection,
        nonEmptyOnly: Bool
    ) throws -> [UnitProfile] {
        try connection.rows(
            """
            SELECT content_type, profile, profile_hash FROM consumer_profiles
            WHERE consumer_id = ? AND (is_empty = 0 OR ? = 0) ORDER BY content_type
            """,
            [.text(consumer.rawValue), .bool(nonEmptyOnly)]
        ) { row in
            UnitProfile(
                consumerID: consumer,
                contentType: row.text(0),
                profile: try JSONValue(parsing: row.text(1)),
                profileHash: row.text(2)
            )
        }
    }

    /// Recomputes a consumer's profile set hash from its profiles' hashes (inside the changing transaction).
    private static func refreshProfileSet(of consumer: ConsumerID, in connection: SQLiteConnection) throws {
        let hashes = try connection.rows(
            "SELECT profile_hash FROM consumer_profiles WHERE consumer_id = ? AND is_empty = 0",
            [.text(consumer.rawValue)]
        ) { $0.text(0) }
        let setHash = hashes.isEmpty ? nil : ProfileHash.profileSetHash(of: hashes)
        try connection.execute(
            "UPDATE consumers SET profile_set_hash = ? WHERE id = ?",
            [.optionalText(setHash), .text(consumer.rawValue)]
        )
    }

    /// Summaries keyed by consumer, of every consumer or only of `ids`.
    private static func summaries(
        in connection: SQLiteConnection,
        only ids: [ConsumerID]?
    ) throws -> [ConsumerID: ConsumerProfileSummary] {
        var result: [ConsumerID: ConsumerProfileSummary] = [:]
        func read(_ row: SQLiteRow) {
            let id = ConsumerID(row.text(0))
            var summary =
                result[id]
                ?? ConsumerProfileSummary(consumerID: id, profileSetHash: row.optionalText(1), repositories: [])
            if !row.isNull(2) {
                let repository = RepositoryID(row.text(2))
                if summary.repositories.last != repository { summary.repositories.append(repository) }
            }
            result[id] = summary
        }
        let select = """
            SELECT c.id, c.profile_set_hash, b.repo_id FROM consumers c
            LEFT JOIN consumer_bindings b ON b.consumer_id = c.id
            """
        if let ids {
            for id in ids {
                try connection.query(select + " WHERE c.id = ? ORDER BY b.repo_id", [.text(id.rawValue)], read)
            }
        } else {
            try connection.query(select + " ORDER BY c.id, b.repo_id", [], read)
        }
        return result
    }
}
