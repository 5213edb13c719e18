public import Foundation

/// Fetches the bytes at a URL and hands them to a consumer chunk by chunk, never holding the whole body.
///
/// Implementations throw ``PulpError``s built with ``PulpError/download(_:url:transient:upstreamStatus:fileID:line:)``
/// (so ``PulpError/isTransient`` says whether a retry may help), rethrow errors thrown by the sink unchanged,
/// and throw `CancellationError` when the calling task is cancelled.
public protocol HTTPTransport: Sendable {
    /// Streams the body of `request.url` into `sink`, one chunk per call, and returns what the server said.
    ///
    /// The buffer passed to `sink` is valid only during the call. Errors thrown by `sink` stop the transfer.
    func stream(
        _ request: DownloadRequest,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> DownloadResponse
}

/// A user name and password sent as an `Authorization: Basic` header (an importer's `basic_auth_*`).
public struct BasicCredentials: Sendable, Hashable {
    /// The user name; it must not contain a colon.
    public var username: String
    /// The password.
    public var password: String

    /// Creates credentials for `username` and `password`.
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The value of the `Authorization` header: `Basic base64(username:password)`.
    public var headerValue: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }
}

/// One file to fetch: where from, with which credentials, TLS policy and stall timeout.
public struct DownloadRequest: Sendable, Hashable {
    /// The URL to fetch: `file`, `http` or `https`.
    public var url: URL
    /// Credentials for HTTP basic authentication, if the feed needs them.
    public var credentials: BasicCredentials?
    /// Whether the server's TLS certificate must be valid (an importer's `ssl_validation`, default `true`).
    public var validateTLS: Bool
    /// How long a transfer may go without receiving data before it fails as timed out.
    public var timeout: Duration

    /// Creates a request for `url`; TLS is validated and a stall times out after 60 seconds unless told otherwise.
    public init(
        url: URL,
        credentials: BasicCredentials? = nil,
        validateTLS: Bool = true,
        timeout: Duration = .seconds(60)
    ) {
        self.url = url
        self.credentials = credentials
        self.validateTLS = validateTLS
        self.timeout = timeout
    }
}

/// What a transport learned about a completed transfer.
public struct DownloadResponse: Sendable, Hashable {
    /// The HTTP status code, or `nil` for schemes without one (`file`).
    public var statusCode: Int?
    /// The length the server announced, if it did.
    public var expectedContentLength: Int64?

    /// Creates a response description.
    public init(statusCode: Int? = nil, expectedContentLength: Int64? = nil) {
        self.statusCode = statusCode
        self.expectedContentLength = expectedContentLength
    }
}

extension PulpError.Code {
    /// A feed could not be downloaded or its content did not check out (502).
    public static let downloadFailed = PulpError.Code(rawValue: "PLK2001")
}

extension PulpError {
    /// A 502 for a download that failed, naming the URL (without credentials); `transient` marks it retryable.
    public static func download(
        _ reason: String,
        url: URL,
        transient: Bool,
        upstreamStatus: Int? = nil,
        fileID: String = #fileID,
        line: Int = #line
    ) -> PulpError {
        let shown = redacted(url)
        var data: [String: JSONValue] = ["url": .string(shown), "transient": .bool(transient)]
        if let upstreamStatus { data["upstream_status"] = .int(upstreamStatus) }
        return PulpError(
            code: .downloadFailed,
            httpStatus: 502,
            message: "\(shown): \(reason)",
            propertyNames: ["feed"],
            data: data,
            fileID: fileID,
            line: line
        )
    }

    /// A download refused with an unsuccessful HTTP `status` (message `HTTP <status> <reason>`, naming the URL,
    /// with `upstream_status` in the data): 5xx, 408 and 429 are transient, every other status permanent.
    public static func downloadStatus(
        _ status: Int,
        reason: String,
        url: URL,
        fileID: String = #fileID,
        line: Int = #line
    ) -> PulpError {
        let transient = status >= 500 || status == 408 || status == 429
        let text = reason.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(reason)"
        return download(text, url: url, transient: transient, upstreamStatus: status, fileID: fileID, line: line)
    }

    /// Whether retrying the download that threw this error may succeed (timeouts, refused connections, 5xx, 429).
    public var isTransient: Bool {
        code == .downloadFailed && data["transient"] == .bool(true)
    }

    /// `url` as text with any user name and password removed, safe for messages and logs.
    static func redacted(_ url: URL) -> String {
        guard var components = URLComponents(url: url, resolvingAgainstBaseURL: false),
            components.user != nil || components.password != nil
        else { return url.absoluteString }
        components.user = nil
        components.password = nil
        return components.string ?? url.absoluteString
    }
}

extension Duration {
    /// The duration in seconds for messages: `5 s`, `0.25 s`.
    var secondsText: String {
        let (seconds, attoseconds) = components
        if attoseconds == 0 { return "\(seconds) s" }
        let value = Double(seconds) + Double(attoseconds) / 1e18
        return "\((value * 1000).rounded() / 1000) s"
    }

    /// The duration in seconds as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
