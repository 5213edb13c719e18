public import Foundation

/// How a sync ended, as its history entry records it.
public enum SyncResult: String, Sendable, Hashable, CaseIterable {
    /// The importer reported success.
    case success
    /// The importer reported a failure; the sync task ends in `error`.
    case failed
    /// The importer raised, or returned no valid report.
    case error
    /// The sync was cancelled.
    case canceled
}

/// One sync of one repository, whatever its outcome: Pulp's `RepoSyncResult`.
///
/// Times are kept to whole seconds, as Pulp writes them: the initialiser and the setters drop any fraction,
/// so the JSON, the stores and the date filters of ``SyncHistoryQuery`` all see the same instant.
public struct SyncHistoryEntry: Sendable, Hashable {
    /// The entry's id, unique across every repository.
    public var id: HistoryEntryID
    /// The repository that was synced.
    public var repositoryID: RepositoryID
    /// The importer that ran.
    public var importerID: String
    /// The type of that importer, e.g. `yum_importer`.
    public var importerTypeID: String
    /// How the sync ended.
    public var result: SyncResult
    /// When the sync started, to the whole second.
    public var started: Date {
        didSet { started = ISO8601DateTime.truncated(started) }
    }
    /// When the sync ended, to the whole second.
    public var completed: Date {
        didSet { completed = ISO8601DateTime.truncated(completed) }
    }
    /// Units added by the sync; `nil` when the importer raised.
    public var addedCount: Int?
    /// Units updated (and not added) by the sync; `nil` when the importer raised.
    public var updatedCount: Int?
    /// Units after minus before minus added (≤ 0 when units were removed, as in Pulp); `nil` when the importer raised.
    public var removedCount: Int?
    /// The importer's summary report.
    public var summary: JSONValue
    /// The importer's detailed report.
    public var details: JSONValue
    /// What the importer's error said, when it raised.
    public var errorMessage: String?
    /// The type and text of that error.
    public var exception: String?
    /// Where that error came from.
    public var traceback: String?

    /// How long stores keep entries unless told otherwise: 60 days, Pulp's `repo_sync_history` reaping age.
    public static let defaultRetention: TimeInterval = 60 * 86_400

    /// Creates an entry; `started` and `completed` are truncated to whole seconds.
    public init(
        id: HistoryEntryID = .random(),
        repositoryID: RepositoryID,
        importerID: String,
        importerTypeID: String,
        result: SyncResult,
        started: Date,
        completed: Date,
        addedCount: Int? = nil,
        updatedCount: Int? = nil,
        removedCount: Int? = nil,
        summary: JSONValue = .null,
        details: JSONValue = .null,
        errorMessage: String? = nil,
        exception: String? = nil,
        traceback: String? = nil
    ) {
        self.id = id
        self.repositoryID = repositoryID
        self.importerID = importerID
        self.importerTypeID = importerTypeID
        self.result = result
        self.started = ISO8601DateTime.truncated(started)
        self.completed = ISO8601DateTime.truncated(completed)
        self.addedCount = addedCount
        self.updatedCount = updatedCount
        self.removedCount = removedCount
        self.summary = summary
        self.details = details
        self.errorMessage = errorMessage
        self.exception = exception
        self.traceback = traceback
    }
}

// MARK: - JSON

extension SyncHistoryEntry {
    /// The keys of an entry's JSON, exactly those of Pulp's `repo_sync_results` documents.
    public static let jsonKeys = [
        "_id", "id", "repo_id", "importer_id", "importer_type_id", "result", "started", "completed",
        "added_count", "updated_count", "removed_count", "summary", "details", "error_message", "exception",
        "traceback",
    ]

    /// The entry as Pulp's history API shows it: every key present, `null` where there is no value.
    public var json: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func count(_ value: Int?) -> JSONValue { value.map(JSONValue.int) ?? .null }
        return [
            "_id": .string(id.rawValue),
            "id": .string(id.rawValue),
            "repo_id": .string(repositoryID.rawValue),
            "importer_id": .string(importerID),
            "importer_type_id": .string(importerTypeID),
            "result": .string(result.rawValue),
            "started": .string(ISO8601DateTime.utcString(started)),
            "completed": .string(ISO8601DateTime.utcString(completed)),
            "added_count": count(addedCount),
            "updated_count": count(updatedCount),
            "removed_count": count(removedCount),
            "summary": summary,
            "details": details,
            "error_message": text(errorMessage),
            "exception": text(exception),
            "traceback": text(traceback),
        ]
    }

    /// Reads the JSON form back (``json``), also accepting Pulp's `{"$oid": …}` `_id` and a traceback
    /// written as a list of frames; an absent nullable key counts as `null`, unknown keys are ignored.
    ///
    /// - Throws: ``PulpError`` (400) naming every missing or invalid key at once, in ``jsonKeys`` order.
    public init(json: JSONValue) throws(PulpError) {
        guard case .object(let members) = json else {
            throw .invalid("entry", "a sync history entry must be an object, got \(json.typeName)")
        }
        var problems: [PulpError.Problem] = []
        func string(_ key: String) -> String? {
            guard let value = members[key], value != .null else {
                problems.append(.init(key, "is required"))
                return nil
            }
            guard case .string(let text) = value else {
                problems.append(.init(key, "must be a string, got \(value.typeName)"))
                return nil
            }
            return text
        }
        func optionalString(_ key: String) -> String? {
            switch members[key] ?? .null {
            case .null: return nil
            case .string(let text): return text
            case .array(let lines) where key == "traceback" && lines.allSatisfy({ $0.stringValue != nil }):
                return lines.compactMap(\.stringValue).joined()
            case let value:
                problems.append(.init(key, "must be a string or null, got \(value.typeName)"))
                return nil
            }
        }
        func count(_ key: String) -> Int? {
            switch members[key] ?? .null {
            case .null: return nil
            case .int(let number): return number
            case let value:
                problems.append(.init(key, "must be an integer or null, got \(value.typeName)"))
                return nil
            }
        }
        func date(_ key: String) -> Date? {
            guard let text = string(key) else { return nil }
            if let date = ISO8601DateTime.utcDate(text) { return date }
            do {
                return try ISO8601DateTime.parse(text).date
            } catch {
                problems.append(.init(key, error.reason))
                return nil
            }
        }

        let objectID: String?
        switch members["_id"] ?? .null {
        case .null: objectID = nil
        case .string(let text): objectID = text
        case .object(let oid) where oid.count == 1 && oid["$oid"]?.stringValue != nil:
            objectID = oid["$oid"]?.stringValue
        case let value:
            objectID = nil
            problems.append(.init("_id", "must be a string or {\"$oid\": string}, got \(value.typeName)"))
        }
        let plainID = members["id"].flatMap(\.stringValue)
        if let objectID, let plainID, objectID != plainID {
            problems.append(.init("_id", "'\(objectID)' differs from id '\(plainID)'"))
        }
        if let value = members["id"], value != .null, plainID == nil {
            problems.append(.init("id", "must be a string, got \(value.typeName)"))
        } else if plainID == nil, objectID == nil {
            problems.append(.init("id", "is required (or _id)"))
        }
        let repositoryID = string("repo_id")
        let importerID = string("importer_id")
        let importerTypeID = string("importer_type_id")
        let resultText = string("result")
        let result = resultText.flatMap(SyncResult.init(rawValue:))
        if let resultText, result == nil {
            problems.append(.init("result", "must be success, failed, error or canceled, got '\(resultText)'"))
        }
        let started = date("started")
        let completed = date("completed")
        let added = count("added_count")
        let updated = count("updated_count")
        let removed = count("removed_count")
        let errorMessage = optionalString("error_message")
        let exception = optionalString("exception")
        let traceback = optionalString("traceback")

        guard problems.isEmpty, let id = plainID ?? objectID, let repositoryID, let importerID, let importerTypeID,
            let result, let started, let completed
        else {
            // Checked in `jsonKeys` order, so the problems already are in that order.
            throw .invalidProperties(problems)
        }
        self.init(
            id: HistoryEntryID(id),
            repositoryID: RepositoryID(repositoryID),
            importerID: importerID,
            importerTypeID: importerTypeID,
            result: result,
            started: started,
            completed: completed,
            addedCount: added,
            updatedCount: updated,
            removedCount: removed,
            summary: members["summary"] ?? .null,
            details: members["details"] ?? .null,
            errorMessage: errorMessage,
            exception: exception,
            traceback: traceback
        )
    }
}
