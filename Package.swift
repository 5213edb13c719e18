// swift-tools-version:6.1

import PackageDescription

let package = Package(
    name: "PulpKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PulpKit", targets: ["PulpKit"]),
        .library(name: "PulpFile", targets: ["PulpFile"]),
        .library(name: "PulpRPM", targets: ["PulpRPM"]),
        .library(name: "PulpAPI", targets: ["PulpAPI"]),
        .library(name: "PulpKitTesting", targets: ["PulpKitTesting"]),
        .executable(name: "pulpkit-bench", targets: ["PulpKitBench"]),
        .executable(name: "pulpkit-crashtest", targets: ["PulpKitCrashTest"]),
        .executable(name: "quickstart", targets: ["Quickstart"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        .target(name: "PulpKit", dependencies: ["CSQLite", "CZlib"]),
        .target(name: "PulpFile", dependencies: ["PulpKit"]),
        .target(name: "PulpRPM", dependencies: ["PulpKit"]),
        .target(name: "PulpAPI", dependencies: ["PulpKit"]),
        .target(name: "PulpKitTesting", dependencies: ["PulpKit"]),
        .executableTarget(
            name: "PulpKitBench",
            dependencies: ["PulpKit", "PulpKitTesting", "PulpFile", "PulpRPM"],
            path: "Benchmarks/PulpKitBench"
        ),
        .executableTarget(
            name: "PulpKitCrashTest",
            dependencies: ["PulpKit"],
            path: "Benchmarks/PulpKitCrashTest"
        ),
        .executableTarget(
            name: "Quickstart",
            dependencies: ["PulpKit", "PulpFile", "PulpRPM", "PulpAPI"],
            path: "Examples/Quickstart"
        ),
        .testTarget(name: "PulpKitTests", dependencies: ["PulpKit", "PulpKitTesting"]),
        .testTarget(name: "PulpFileTests", dependencies: ["PulpFile", "PulpKitTesting"]),
        .testTarget(name: "PulpRPMTests", dependencies: ["PulpRPM", "PulpKitTesting"]),
        .testTarget(name: "PulpAPITests", dependencies: ["PulpAPI", "PulpKitTesting", "PulpFile", "PulpRPM"]),
        .testTarget(name: "PulpKitTestingTests", dependencies: ["PulpKitTesting"]),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
