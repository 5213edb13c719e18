/// A managed host: the thing whose installed content Pulp compares with repositories (Pulp 2's consumer).
///
/// A consumer carries no content itself; what it has installed lives in its ``UnitProfile``s and what it
/// may install from lives in its ``ConsumerBinding``s.
public struct Consumer: Sendable, Hashable {
    /// The consumer's id: letters, digits, `.`, `-` and `_` only, as Pulp 2 accepts.
    public var id: ConsumerID
    /// A name for people; the id when not given.
    public var displayName: String
    /// Free text, or `nil`.
    public var description: String?
    /// Key-value notes for the host's own use.
    public var notes: [String: JSONValue]

    /// Describes a consumer; `displayName` defaults to the id.
    public init(
        id: ConsumerID,
        displayName: String? = nil,
        description: String? = nil,
        notes: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.displayName = displayName ?? id.rawValue
        self.description = description
        self.notes = notes
    }

    /// The consumer's REST path, `/pulp/api/v2/consumers/<id>/`.
    public var href: String { "/pulp/api/v2/consumers/\(id.rawValue)/" }

    /// The consumer as Pulp 2 shows it, and as consumer criteria see it:
    /// `{"id", "display_name", "description", "notes", "_href"}`.
    public var json: JSONValue {
        [
            "id": .string(id.rawValue),
            "display_name": .string(displayName),
            "description": description.map(JSONValue.string) ?? .null,
            "notes": .object(notes),
            "_href": .string(href),
        ]
    }

    /// The longest id accepted, in UTF-8 bytes.
    public static let maximumIDLength = 255

    /// Checks that `id` can name a consumer: a 400 naming `field` unless it is 1 to 255 characters, each an
    /// ASCII letter or digit, `.`, `-` or `_` (Pulp 2's rule; the id is a URL path segment).
    public static func validate(id: String, field: String = "id") throws(PulpError) {
        if id.isEmpty { throw PulpError.invalid(field, "must not be empty") }
        if id.utf8.count > maximumIDLength {
            throw PulpError.invalid(field, "must be at most \(maximumIDLength) characters, got \(id.utf8.count)")
        }
        let allowed = id.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default: false
            }
        }
        if !allowed {
            throw PulpError.invalid(field, "may contain only letters, digits, '.', '-' and '_', got '\(id)'")
        }
    }

    /// The 404 for a consumer that does not exist.
    public static func missing(_ id: ConsumerID) -> PulpError {
        PulpError.missingResource(["consumer": id.rawValue])
    }

    /// The 409 for registering a consumer whose id is taken.
    static func duplicate(_ id: ConsumerID) -> PulpError {
        PulpError.conflict("Duplicate resource: \(id.rawValue)", propertyNames: ["id"])
    }
}

/// What a consumer has installed of one content type, e.g. its RPMs: Pulp 2's unit profile.
///
/// A consumer has at most one profile per content type; uploading another replaces it. The profile is
/// stored as its calculator normalised it (RPM entries sorted), and ``profileHash`` is computed from that
/// normalised form, so consumers with the same installed set share a hash.
public struct UnitProfile: Sendable, Hashable {
    /// The consumer the profile belongs to.
    public var consumerID: ConsumerID
    /// The content type the profile lists, e.g. `rpm`.
    public var contentType: String
    /// The normalised profile.
    public var profile: JSONValue
    /// ``ProfileHash/hash(of:)`` of ``profile``: 64 lowercase hex digits.
    public var profileHash: String

    /// Creates a profile and computes its hash; `profile` should already be normalised.
    public init(consumerID: ConsumerID, contentType: String, profile: JSONValue) {
        self.init(
            consumerID: consumerID,
            contentType: contentType,
            profile: profile,
            profileHash: ProfileHash.hash(of: profile)
        )
    }

    /// Creates a profile with a hash computed before (as stores do when they read one back).
    public init(consumerID: ConsumerID, contentType: String, profile: JSONValue, profileHash: String) {
        self.consumerID = consumerID
        self.contentType = contentType
        self.profile = profile
        self.profileHash = profileHash
    }

    /// Whether the profile lists nothing (`[]`, `{}` or `null`); empty profiles take no part in applicability.
    public var isEmpty: Bool { ProfileHash.isEmpty(profile) }

    /// The profile as Pulp 2 shows it: `{"consumer_id", "content_type", "profile", "profile_hash", "_href"}`.
    public var json: JSONValue {
        [
            "consumer_id": .string(consumerID.rawValue),
            "content_type": .string(contentType),
            "profile": profile,
            "profile_hash": .string(profileHash),
            "_href": .string("/pulp/api/v2/consumers/\(consumerID.rawValue)/profiles/\(contentType)/"),
        ]
    }
}

/// A consumer's binding to a repository: the repositories whose content can apply to the consumer.
///
/// Pulp 2 binds a consumer to a repository's distributor; a binding without a distributor is allowed too.
/// For applicability only the repository counts.
public struct ConsumerBinding: Sendable, Hashable {
    /// The bound consumer.
    public var consumerID: ConsumerID
    /// The repository it is bound to.
    public var repositoryID: RepositoryID
    /// The distributor of the repository it is bound to, or `nil` for the repository itself.
    public var distributorID: String?
    /// Whether the consumer's agent should be told about the binding (Pulp's default: yes).
    public var notifyAgent: Bool
    /// Options the distributor uses for this binding.
    public var bindingConfig: [String: JSONValue]

    /// Describes a binding.
    public init(
        consumerID: ConsumerID,
        repositoryID: RepositoryID,
        distributorID: String? = nil,
        notifyAgent: Bool = true,
        bindingConfig: [String: JSONValue] = [:]
    ) {
        self.consumerID = consumerID
        self.repositoryID = repositoryID
        self.distributorID = distributorID
        self.notifyAgent = notifyAgent
        self.bindingConfig = bindingConfig
    }

    /// The binding as Pulp 2 shows it:
    /// `{"consumer_id", "repo_id", "distributor_id", "notify_agent", "binding_config", "_href"}`.
    public var json: JSONValue {
        let path = "/pulp/api/v2/consumers/\(consumerID.rawValue)/bindings/\(repositoryID.rawValue)/"
        return [
            "consumer_id": .string(consumerID.rawValue),
            "repo_id": .string(repositoryID.rawValue),
            "distributor_id": distributorID.map(JSONValue.string) ?? .null,
            "notify_agent": .bool(notifyAgent),
            "binding_config": .object(bindingConfig),
            "_href": .string(path + (distributorID.map { "\($0)/" } ?? "")),
        ]
    }
}

/// What applicability needs to know about one consumer: its profile set and the repositories it is bound to.
public struct ConsumerProfileSummary: Sendable, Hashable {
    /// The consumer.
    public var consumerID: ConsumerID
    /// ``ProfileHash/profileSetHash(of:)`` of its non-empty profiles, or `nil` when it has none (then
    /// nothing can apply to it).
    public var profileSetHash: String?
    /// The repositories it is bound to, sorted, each once.
    public var repositories: [RepositoryID]

    /// Creates a summary.
    public init(consumerID: ConsumerID, profileSetHash: String?, repositories: [RepositoryID]) {
        self.consumerID = consumerID
        self.profileSetHash = profileSetHash
        self.repositories = repositories
    }
}
