// swift-tools-version:6.1

// A separate package, so that the root PulpKit package stays free of dependencies: it serves `PulpAPI`
// over HTTP with Hummingbird 2. `swift run --package-path Examples/HTTPServer pulpkit-http-server --storage DIR`.

import PackageDescription

let package = Package(
    name: "PulpKitHTTPServer",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pulpkit-http-server", targets: ["PulpHTTPServer"])
    ],
    dependencies: [
        .package(name: "PulpKit", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
    ],
    targets: [
        .executableTarget(
            name: "PulpHTTPServer",
            dependencies: [
                .product(name: "PulpAPI", package: "PulpKit"),
                .product(name: "PulpKit", package: "PulpKit"),
                .product(name: "PulpFile", package: "PulpKit"),
                .product(name: "PulpRPM", package: "PulpKit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
