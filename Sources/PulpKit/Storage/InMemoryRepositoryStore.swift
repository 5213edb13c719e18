import Foundation

/// A ``RepositoryStore`` in memory: fast, shared by the tasks of one process, gone when it exits.
public final class InMemoryRepositoryStore: RepositoryStore {
    private let repositories = PulpMutex<[RepositoryID: Repository]>([:])

    /// Creates an empty store.
    public init() {}

    /// Stores a new repository; a 409 when the id is taken.
    public func create(_ repository: Repository) async throws {
        try repositories.withLock { repositories throws(PulpError) in
            guard repositories[repository.id] == nil else { throw Repository.duplicate(repository.id) }
            repositories[repository.id] = repository
        }
    }

    /// The repository with `id`, or `nil`.
    public func repository(_ id: RepositoryID) async throws -> Repository? {
        repositories.withLock { $0[id] }
    }

    /// The repositories whose JSON matches `criteria`, ordered by id unless it sorts.
    public func repositories(matching criteria: Criteria) async throws -> [Repository] {
        let all = repositories.withLock { Array($0.values) }.sorted { $0.id < $1.id }
        return Repository.select(all, matching: criteria)
    }

    /// Applies `change` to the stored repository atomically; a 404 when it does not exist.
    public func update(
        _ id: RepositoryID,
        _ change: @escaping @Sendable (inout Repository) throws -> Void
    ) async throws -> Repository {
        try repositories.withLock { repositories in
            guard var repository = repositories[id] else { throw Repository.missing(id) }
            try change(&repository)
            repository.id = id
            repositories[id] = repository
            return repository
        }
    }

    /// Removes the repository; returns whether it existed.
    public func delete(_ id: RepositoryID) async throws -> Bool {
        repositories.withLock { $0.removeValue(forKey: id) != nil }
    }
}

extension Repository {
    /// The repositories (ordered by id) whose JSON matches `criteria`, in the criteria's order and page.
    static func select(_ repositories: [Repository], matching criteria: Criteria) -> [Repository] {
        let byID = Dictionary(uniqueKeysWithValues: repositories.map { ($0.id.rawValue, $0) })
        return criteria.apply(to: repositories.map(\.json)).compactMap { document in
            document["id"]?.stringValue.flatMap { byID[$0] }
        }
    }
}
