import Foundation
import LinkModel
import OpenSSLKit
#if canImport(Glibc)
import Glibc
#endif

/// Private key files: written with mode 0600, refused at load when group or others can read them.
public enum KeyFile {
    /// Writes `pem` to `path` with mode 0600 (owner read/write only), replacing any file there atomically.
    /// The folder is created with mode 0700 when missing.
    public static func write(pem: String, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw SecurityError(.fileAccess, "cannot create key folder \(folder): \(error.localizedDescription)")
            }
        }
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SecurityError(.fileAccess, "cannot create private key file \(temporary): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(pem.utf8)
        var written = 0
        var failed = fchmod(descriptor, 0o600) != 0
        while !failed, written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { failed = true } else { written += count }
        }
        failed = fsync(descriptor) != 0 || failed
        close(descriptor)
        guard !failed, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SecurityError(.fileAccess, "cannot write private key file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads the PEM text of the private key at `path` after checking that only its owner can read it.
    public static func read(path: String) throws -> String {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw SecurityError(.fileAccess, "cannot read private key \(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw SecurityError(.insecureKeyFile, "private key \(path) is not a regular file")
        }
        let mode = status.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw SecurityError(.insecureKeyFile,
                                "private key \(path) can be read or written by group or others (mode \(String(mode, radix: 8)))",
                                hint: "run `chmod 600 \(path)`")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SecurityError(.fileAccess, "cannot read private key \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Loads a private key (any algorithm) from a 0600 PEM file.
    public static func loadKey(path: String) throws -> EVPKey {
        let pem = try read(path: path)
        do {
            return try EVPKey(privateKeyPEM: pem, context: path)
        } catch let error as OpenSSLError {
            throw SecurityError(.invalidEncoding, "\(path) does not hold a PEM private key (\(error))")
        }
    }

    /// Loads a CURVE key pair (X25519 PKCS#8 PEM) from a 0600 file.
    public static func loadCurveKeys(path: String) throws -> CurveKeys {
        let key = try loadKey(path: path)
        guard key.algorithm == .x25519 else {
            throw SecurityError(.invalidArgument, "\(path) is not an X25519 CURVE key")
        }
        return try CurveKeys(key: key)
    }
}

/// Small file helpers shared by the PKI code.
public enum TextFile {
    /// Reads a UTF-8 text file or throws a ``SecurityError`` naming it, what is wrong and what to do; `whenMissing`
    /// replaces the hint for a file that does not exist.
    public static func read(_ path: String, what: String, whenMissing: String? = nil) throws -> String {
        do {
            return try TextFiles.read(path, what: what)
        } catch {
            let missing = !FileManager.default.fileExists(atPath: path)
            throw SecurityError(.fileAccess, "cannot read \(what) \(path): \(error.problem)", hint: missing ? whenMissing ?? error.hint : error.hint)
        }
    }

    /// What to do when a lab's certificates do not exist yet.
    public static let noLabCAHint = "create the lab CA and certificates first: qlink certs init --lab LAB --out DIR, then qlink certs issue "
        + "for each node and the coordinator (README, \"The lab PKI\"), or point the configuration's security: section at existing ones"

    /// Writes `text` to `path` atomically (mode 0644: certificates and CRLs are public).
    static func write(_ text: String, to path: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            _ = chmod(path, 0o644)
        } catch {
            throw SecurityError(.fileAccess, "cannot write \(path): \(error.localizedDescription)")
        }
    }
}
