import Foundation

/// The second test Synapse, with presence switched off (`Scripts/synapse.sh up --stock --presence-off` with its own
/// `SYNAPSE_STATE_DIR`, which Scripts/test starts beside the usual one): its `env` file says where it is.
enum PresenceOffSynapse {
    static var stateDirectory: String {
        ProcessInfo.processInfo.environment["SYNAPSE_NO_PRESENCE_STATE_DIR"] ?? SynapseEnvironment.projectDirectory + "/.synapse/presence-off"
    }

    private static var envLines: [Substring] {
        guard let text = try? String(contentsOfFile: stateDirectory + "/env", encoding: .utf8) else { return [] }
        return text.split(separator: "\n")
    }

    static var url: String? {
        guard envLines.contains("SYNAPSE_PRESENCE=off") else { return nil }
        return envLines.first { $0.hasPrefix("SYNAPSE_URL=") }.map { String($0.dropFirst("SYNAPSE_URL=".count)) }
    }

    /// Whether it answers.
    static var isRunning: Bool {
        guard let url, let versions = URL(string: url + "/_matrix/client/versions") else { return false }
        return (try? Data(contentsOf: versions)) != nil
    }
}
