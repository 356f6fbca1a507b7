import Foundation
@testable import Security

/// A throw-away folder with a lab CA for one test.
struct TestPKI {
    let root: String
    let authority: LabAuthority
    var layout: PKILayout { authority.layout }
    static let day: TimeInterval = 86_400

    init(lab: String = "testlab", algorithm: OpenSSLKitAlgorithm = .ed25519, folder: String = "ca") throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("qlink-sec-\(UUID().uuidString)").path
        authority = try LabAuthority.create(lab: lab, directory: root + "/" + folder, algorithm: algorithm)
    }

    /// Issues `name` valid from yesterday for `days` days.
    @discardableResult
    func issue(_ name: String, role: NodeRole = .node, days: Double = 30) throws -> IssuedCertificate {
        let now = Date()
        return try authority.issue(name: name, role: role, notBefore: now.addingTimeInterval(-TestPKI.day),
                                   notAfter: now.addingTimeInterval(days * TestPKI.day))
    }

    func policy() throws -> TrustPolicy {
        try TrustPolicy(caCertificatePath: layout.caCertificate, crlPath: layout.crl)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

import OpenSSLKit
typealias OpenSSLKitAlgorithm = KeyAlgorithm

/// Runs the `openssl` program (interop checks only) and returns its exit status and output.
func runOpenSSL(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

let openSSLProgramAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
