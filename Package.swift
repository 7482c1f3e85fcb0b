// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "docktail",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "docktail", targets: ["docktail"]),
        .library(name: "DocktailCore", targets: ["DocktailCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
    ],
    targets: [
        // SHA-1 for Sec-WebSocket-Accept (RFC 6455 §4.2.2) and TLS (to engines, and for HTTPS/WSS) come from OpenSSL.
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "DocktailCore",
            dependencies: [
                "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "docktail",
            dependencies: [
                "DocktailCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DocktailCoreTests",
            dependencies: ["DocktailCore", "COpenSSL", .product(name: "Logging", package: "swift-log")],
            // Recorded engine responses, read from the source tree by the tests.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
