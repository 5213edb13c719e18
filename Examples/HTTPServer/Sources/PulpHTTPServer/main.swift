// PulpKit over HTTP: `PulpAPI` served by Hummingbird 2 on 127.0.0.1.
//
//     swift run --package-path Examples/HTTPServer pulpkit-http-server --storage /var/tmp/pulp [--port 24817]
//
// Every request under `/pulp/api/`, whatever its method, goes to `PulpAPI.handle(_:)`; `pulp.run()` (the task
// workers and the scheduler) runs beside the HTTP server in one ServiceGroup, which SIGINT and SIGTERM stop.

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PulpAPI
import PulpFile
import PulpKit
import PulpRPM
import ServiceLifecycle

/// The largest request body accepted; a larger one gets 413.
let maxBodySize = 64 * 1024 * 1024

/// The command line: `--storage DIR` (required) and `--port N` (24817 by default).
struct Options {
    var storage: URL
    var port: Int

    static let usage = "usage: pulpkit-http-server --storage DIR [--port N]"

    static func parse(_ arguments: [String]) -> Result<Options, OptionsError> {
        var storage: URL?
        var port = 24817
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--storage":
                guard let value = remaining.popFirst() else { return .failure(.init("--storage needs a directory")) }
                storage = URL(fileURLWithPath: value, isDirectory: true)
            case "--port":
                guard let value = remaining.popFirst(), let number = Int(value), (0...65535).contains(number) else {
                    return .failure(.init("--port needs a number from 0 to 65535"))
                }
                port = number
            case "-h", "--help":
                return .failure(.init(""))
            default:
                return .failure(.init("unknown argument \(argument)"))
            }
        }
        guard let storage else { return .failure(.init("--storage is required")) }
        return .success(Options(storage: storage, port: port))
    }
}

/// A command-line mistake.
struct OptionsError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Hands every request under `/pulp/api/` to ``PulpAPI`` and writes its answer back as JSON.
struct PulpResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let api: PulpAPI

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        guard path == "/pulp/api" || path.hasPrefix("/pulp/api/") else {
            return Self.json(status: 404, body: #"{"http_status": 404, "error_message": "Not Found"}"#)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodySize)
        } catch is NIOTooManyBytesError {
            return Self.json(status: 413, body: #"{"http_status": 413, "error_message": "Request body too large"}"#)
        }
        let query = request.uri.queryParameters.map { APIRequest.QueryItem(String($0.key), String($0.value)) }
        let apiRequest = APIRequest(
            method: request.method.rawValue,
            path: path,
            query: query,
            body: Array(buffer: body)
        )
        let response = await api.handle(apiRequest)
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name) { headers[fieldName] = value }
        }
        headers[.contentType] = "application/json"
        let bytes = response.bodyBytes
        headers[.contentLength] = String(bytes.count)
        return Response(
            status: HTTPResponse.Status(code: response.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    private static func json(status: Int, body: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body))
        )
    }
}

/// `pulp.run()` as a service: it runs until the group shuts down.
struct PulpService: Service {
    let pulp: Pulp

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await pulp.run() }
    }
}

let options: Options
switch Options.parse(Array(CommandLine.arguments.dropFirst())) {
case .success(let parsed):
    options = parsed
case .failure(let error):
    if !error.message.isEmpty { FileHandle.standardError.write(Data("error: \(error.message)\n".utf8)) }
    FileHandle.standardError.write(Data("\(Options.usage)\n".utf8))
    exit(error.message.isEmpty ? 0 : 2)
}

try FileManager.default.createDirectory(at: options.storage, withIntermediateDirectories: true)
let pulp = try Pulp(configuration: .init(storage: .sqlite(directory: options.storage)))
pulp.register(FileImporter())
try pulp.register(RPMApplicabilityCalculator())

var logger = Logger(label: "pulpkit-http-server")
logger.logLevel = .info
let app = Application(
    responder: PulpResponder(api: PulpAPI(pulp: pulp)),
    configuration: .init(address: .hostname("127.0.0.1", port: options.port), serverName: "PulpKit"),
    logger: logger
)
let services = ServiceGroup(
    configuration: .init(
        services: [PulpService(pulp: pulp), app],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    )
)
try await services.run()
