// swift-tools-version:6.0
// kitt: the KITT web server. No package dependencies: only the toolchain and the
// system's OpenSSL, SQLite, libpq and zlib (each entering through one system-library target).
import PackageDescription

let settings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "kitt",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kitt", targets: ["kitt"]),
    ],
    targets: [
        // C libraries: each is imported by exactly one Swift module (plus KittAPI for zlib).
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libpq's header (issue 15), imported only by KittPostgres, which loads libpq at run time.
        .systemLibrary(name: "CPostgres", providers: [.apt(["libpq-dev"])]),
        // epoll/eventfd wrappers (Glibc's Swift module does not export them).
        .systemLibrary(name: "CKittSystem"),

        // Libraries, in dependency order. KittBase: file reads, atomic writes, CSPRNG tokens,
        // hex, trimming, SystemError (Glibc only). SHA-256 lives in KittNet, which owns OpenSSL.
        .target(name: "KittBase", swiftSettings: settings),
        .target(name: "KittJSON", swiftSettings: settings),
        .target(name: "KittThreads", swiftSettings: settings),
        .target(name: "KittHTTP", dependencies: ["KittBase", "KittJSON"], swiftSettings: settings),
        .target(
            name: "KittNet", dependencies: ["KittBase", "KittHTTP", "KittThreads", "COpenSSL", "CKittSystem"],
            swiftSettings: settings),
        .target(name: "KittSQLite", dependencies: ["CSQLite", "KittBase", "KittThreads"], swiftSettings: settings),
        .target(name: "KittStore", dependencies: ["KittBase", "KittSQLite", "KittJSON"], swiftSettings: settings),
        // The PostgreSQL store (issue 15): `kitt web --database postgres://…` and `kitt migrate`.
        .target(name: "KittPostgres", dependencies: ["CPostgres", "KittBase"], swiftSettings: settings),
        .target(
            name: "KittStorePostgres", dependencies: ["KittStore", "KittPostgres", "KittSQLite", "KittJSON"],
            swiftSettings: settings),
        .target(
            name: "KittAPI",
            dependencies: ["KittBase", "KittHTTP", "KittNet", "KittStore", "KittJSON", "CZlib"],
            swiftSettings: settings),
        .target(
            name: "KittWeb", dependencies: ["KittAPI", "KittBase", "KittHTTP", "KittNet", "KittStore", "KittJSON"],
            swiftSettings: settings),
        .target(
            name: "KittAgent", dependencies: ["KittBase", "KittNet", "KittHTTP", "KittJSON"], swiftSettings: settings),
        .target(
            name: "KittApp",
            dependencies: ["KittAPI", "KittWeb", "KittAgent", "KittBase", "KittNet", "KittStore", "KittStorePostgres"],
            swiftSettings: settings),
        .executableTarget(name: "kitt", dependencies: ["KittApp"], swiftSettings: settings),

        // Tests.
        .target(
            name: "KittTestSupport",
            dependencies: [
                "KittApp", "KittNet", "KittHTTP", "KittJSON", "KittPostgres", "KittSQLite", "KittStore", "KittStorePostgres",
            ],
            path: "Tests/KittTestSupport", swiftSettings: settings),
        .testTarget(name: "KittBaseTests", dependencies: ["KittBase"], swiftSettings: settings),
        .testTarget(name: "KittJSONTests", dependencies: ["KittJSON"], swiftSettings: settings),
        .testTarget(name: "KittHTTPTests", dependencies: ["KittHTTP"], swiftSettings: settings),
        .testTarget(name: "KittNetTests", dependencies: ["KittNet", "KittTestSupport"], swiftSettings: settings),
        .testTarget(name: "KittSQLiteTests", dependencies: ["KittSQLite"], swiftSettings: settings),
        .testTarget(
            name: "KittPostgresTests",
            dependencies: ["KittPostgres", "KittStorePostgres", "KittStore", "KittSQLite", "KittJSON", "KittTestSupport"],
            swiftSettings: settings),
        // KittTestSupport: the repository tests run on both backends (`Backend`, issue 15).
        .testTarget(
            name: "KittStoreTests", dependencies: ["KittBase", "KittNet", "KittStore", "KittSQLite", "KittTestSupport"],
            swiftSettings: settings),
        .testTarget(
            name: "KittAPITests", dependencies: ["KittAPI", "KittNet", "KittTestSupport"], swiftSettings: settings),
        .testTarget(
            name: "KittWebTests",
            dependencies: ["KittWeb", "KittAPI", "KittNet", "KittStore", "KittSQLite", "KittHTTP", "KittJSON", "KittTestSupport"],
            swiftSettings: settings),
        .testTarget(
            name: "KittAgentTests", dependencies: ["KittAgent", "KittTestSupport"], swiftSettings: settings),
        .testTarget(
            name: "KittEndToEndTests",
            dependencies: [
                "KittApp", "KittAPI", "KittBase", "KittNet", "KittHTTP", "KittJSON", "KittStore", "KittSQLite",
                "KittPostgres", "KittStorePostgres", "KittTestSupport",
            ],
            swiftSettings: settings),
    ]
)
