public import Foundation

/// When an importer's files are fetched.
public enum DownloadPolicy: String, Sendable, Hashable, CaseIterable {
    /// During the sync (the default).
    case immediate
    /// After the sync, by a `download_repo` task the sync spawns.
    case background
    /// The first time a unit's file is asked for.
    case onDemand = "on_demand"
}

/// The importer configuration keys every importer shares, read and checked in one place.
///
/// | key | type | default |
/// |---|---|---|
/// | `feed` | URL string (`http`, `https`, `file`) | none |
/// | `download_policy` | `immediate`, `background`, `on_demand` | `immediate` |
/// | `max_downloads` | integer ≥ 1 | 5 |
/// | `verify_size`, `verify_checksum` | bool | `true` |
/// | `ssl_validation` | bool | `true` |
/// | `basic_auth_username`, `basic_auth_password` | string | none |
/// | `download_timeout` | seconds, number > 0 | 60 |
/// | `remove_missing` | bool | `false` |
public struct ImporterSettings: Sendable, Hashable {
    /// The feed URL, if configured.
    public var feed: URL?
    /// When files are fetched.
    public var downloadPolicy: DownloadPolicy
    /// How many files download at once.
    public var maxDownloads: Int
    /// Whether a download's size must match the expected size.
    public var verifySize: Bool
    /// Whether a download's SHA-256 must match the expected checksum.
    public var verifyChecksum: Bool
    /// Whether TLS certificates are validated.
    public var validateTLS: Bool
    /// Credentials for the feed, when configured.
    public var credentials: BasicCredentials?
    /// How long a download may go without receiving bytes.
    public var downloadTimeout: Duration
    /// Whether units gone from the feed are removed from the repository.
    public var removeMissing: Bool

    /// The settings of an empty configuration: every default.
    public init() {
        feed = nil
        downloadPolicy = .immediate
        maxDownloads = 5
        verifySize = true
        verifyChecksum = true
        validateTLS = true
        credentials = nil
        downloadTimeout = .seconds(60)
        removeMissing = false
    }

    /// Reads the standard keys of a configuration; a 400 naming every bad key at once.
    public init(configuration: [String: JSONValue]) throws(PulpError) {
        let problems = Self.problems(in: configuration)
        if !problems.isEmpty { throw PulpError.invalidProperties(problems) }
        feed = configuration["feed"]?.stringValue.flatMap(URL.init(string:))
        downloadPolicy = configuration["download_policy"]?.stringValue.flatMap(DownloadPolicy.init) ?? .immediate
        maxDownloads = configuration["max_downloads"]?.intValue ?? 5
        verifySize = configuration["verify_size"]?.boolValue ?? true
        verifyChecksum = configuration["verify_checksum"]?.boolValue ?? true
        validateTLS = configuration["ssl_validation"]?.boolValue ?? true
        if let username = configuration["basic_auth_username"]?.stringValue {
            credentials = BasicCredentials(
                username: username,
                password: configuration["basic_auth_password"]?.stringValue ?? ""
            )
        } else {
            credentials = nil
        }
        let timeout = configuration["download_timeout"]?.doubleValue ?? 60
        downloadTimeout = .milliseconds(Int64((timeout * 1000).rounded()))
        removeMissing = configuration["remove_missing"]?.boolValue ?? false
    }

    /// Every problem with the standard keys of `configuration` (`null` values count as absent).
    public static func problems(in configuration: [String: JSONValue]) -> [PulpError.Problem] {
        var problems: [PulpError.Problem] = []
        for (key, value) in configuration.sorted(by: { $0.key < $1.key }) where value != .null {
            switch key {
            case "feed":
                if let text = value.stringValue {
                    let scheme = URL(string: text)?.scheme?.lowercased()
                    if !["http", "https", "file"].contains(scheme ?? "") {
                        problems.append(.init(key, "must be an http, https or file URL, got '\(text)'"))
                    }
                } else {
                    problems.append(.init(key, "must be a string, got \(value.typeName)"))
                }
            case "download_policy":
                if value.stringValue.flatMap(DownloadPolicy.init) == nil {
                    let allowed = DownloadPolicy.allCases.map(\.rawValue).joined(separator: ", ")
                    problems.append(.init(key, "download_policy must be one of: \(allowed); got \(value)"))
                }
            case "max_downloads":
                if case .int(let count) = value, count >= 1 { continue }
                problems.append(.init(key, "must be an integer of at least 1, got \(value)"))
            case "verify_size", "verify_checksum", "ssl_validation", "remove_missing":
                if value.boolValue == nil { problems.append(.init(key, "must be a boolean, got \(value)")) }
            case "basic_auth_username", "basic_auth_password":
                if value.stringValue == nil { problems.append(.init(key, "must be a string, got \(value.typeName)")) }
            case "download_timeout":
                if let seconds = value.doubleValue, seconds > 0, seconds.isFinite {
                    continue
                }
                problems.append(.init(key, "must be a number of seconds above 0, got \(value)"))
            default:
                continue
            }
        }
        return problems
    }

    /// The configuration a sync runs with: `override` merged over `stored` key by key, after dropping the
    /// stored keys whose value is `null` (an override's `null` removes a key for that call).
    public static func effectiveConfiguration(
        stored: [String: JSONValue],
        override: [String: JSONValue]
    ) -> [String: JSONValue] {
        var merged = stored.filter { $0.value != .null }
        for (key, value) in override {
            if value == .null { merged[key] = nil } else { merged[key] = value }
        }
        return merged
    }

    /// A download request for `url` with these settings' credentials, TLS validation and timeout.
    public func request(for url: URL) -> DownloadRequest {
        DownloadRequest(url: url, credentials: credentials, validateTLS: validateTLS, timeout: downloadTimeout)
    }
}
