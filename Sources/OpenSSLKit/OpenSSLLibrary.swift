import COpenSSL

/// Facts about the OpenSSL library the process is linked against.
public enum OpenSSLLibrary {
    /// The version text reported by the library at run time, e.g. `OpenSSL 3.0.19 27 Jan 2026`.
    public static var versionText: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }

    /// The run-time version number (`0xMNN00PP0L`).
    public static var versionNumber: UInt {
        UInt(OpenSSL_version_num())
    }

    /// Whether the library is OpenSSL 3 or later, which QLink requires (X25519 certificates, CRL checks).
    public static var isVersion3OrLater: Bool {
        versionNumber >= 0x3000_0000
    }
}
