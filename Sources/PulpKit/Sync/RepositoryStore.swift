import Foundation

/// Where repositories and their importers live.
///
/// Every conformer keeps these rules:
///
/// 1. **Create.** ``create(_:)`` stores a new repository; an id already stored is a 409 and nothing changes.
/// 2. **Read.** ``repository(_:)`` returns what was stored, or `nil`; ``repositories(matching:)`` applies
///    the criteria to each repository's ``Repository/json`` (ordered by id unless the criteria sort).
/// 3. **Update.** ``update(_:_:)`` applies a change atomically: the change sees the stored value, and
///    what it leaves is stored, unless it throws, in which case nothing changes. The id cannot change.
///    A missing repository is a 404.
/// 4. **Delete.** ``delete(_:)`` removes the repository and its importer; it returns whether it existed.
/// 5. **Durability.** A change is stored before the call that makes it returns.
public protocol RepositoryStore: Sendable {
    /// Stores a new repository (rule 1).
    func create(_ repository: Repository) async throws

    /// The repository with `id`, or `nil` (rule 2).
    func repository(_ id: RepositoryID) async throws -> Repository?

    /// The repositories matching `criteria` (rule 2).
    func repositories(matching criteria: Criteria) async throws -> [Repository]

    /// Changes a stored repository atomically and returns the stored result (rule 3).
    @discardableResult
    func update(
        _ id: RepositoryID,
        _ change: @escaping @Sendable (inout Repository) throws -> Void
    ) async throws -> Repository

    /// Removes a repository and its importer; returns whether it existed (rule 4).
    @discardableResult
    func delete(_ id: RepositoryID) async throws -> Bool
}

extension RepositoryStore {
    /// The repository with `id`, or a 404 ``PulpError`` naming it.
    public func existingRepository(_ id: RepositoryID) async throws -> Repository {
        guard let repository = try await repository(id) else { throw Repository.missing(id) }
        return repository
    }
}

extension Repository {
    /// The 404 for a repository that does not exist.
    public static func missing(_ id: RepositoryID) -> PulpError {
        PulpError.missingResource(["repository": id.rawValue])
    }

    /// The 409 for creating a repository whose id is taken.
    static func duplicate(_ id: RepositoryID) -> PulpError {
        PulpError.conflict("Duplicate resource: \(id.rawValue)", propertyNames: ["id"])
    }
}
