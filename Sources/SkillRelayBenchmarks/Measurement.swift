import Foundation

/// Timings and the figures made of them.
enum Measurement {
    /// Runs `body` and returns how long it took.
    static func time(_ body: () async throws -> Void) async rethrows -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        return clock.now - start
    }

    static func median(_ values: [Duration]) -> Duration { percentile(values, 50) }

    static func percentile(_ values: [Duration], _ p: Double) -> Duration {
        guard !values.isEmpty else { return .zero }
        let sorted = values.sorted()
        let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * p / 100).rounded()))
        return sorted[index]
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ duration: Duration) -> String {
        let value = seconds(duration)
        if value >= 1 { return String(format: "%.2f s", value) }
        if value >= 0.001 { return String(format: "%.2f ms", value * 1000) }
        return String(format: "%.1f µs", value * 1_000_000)
    }

    static func ratio(_ a: Duration, _ b: Duration) -> String {
        String(format: "%.2f×", seconds(a) / max(seconds(b), 1e-12))
    }

    /// CPU time a process has used so far (user and system, from `/proc/PID/stat`), in seconds. Steadier than a rate
    /// on a shared machine: what the process itself spent, whoever else ran.
    static func cpuSeconds(pid: String) -> Double? {
        processStat(pid).map { ($0.user + $0.system) / ticksPerSecond }
    }

    /// CPU time every process named `name` on this machine has used so far, with that of the children they waited
    /// for (a PostgreSQL server's backends that exited count through the postmaster), in seconds; `nil` when none runs.
    static func cpuSeconds(ofProcessesNamed name: String) -> Double? {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
        let matching = pids.compactMap(processStat).filter { $0.name == name }
        guard !matching.isEmpty else { return nil }
        return matching.reduce(0) { $0 + $1.user + $1.system + $1.children } / ticksPerSecond
    }

    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// A process's name and CPU time in clock ticks (its own user and system time, and its waited-for children's).
    private static func processStat(_ pid: String) -> (name: Substring, user: Double, system: Double, children: Double)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let nameStart = stat.firstIndex(of: "("), let afterName = stat.range(of: ")", options: .backwards)
        else { return nil }
        // After "pid (name)": state is field 3, utime and stime fields 14 and 15, cutime and cstime 16 and 17.
        let fields = stat[afterName.upperBound...].split(separator: " ")
        guard fields.count > 14, let user = Double(fields[11]), let system = Double(fields[12]), let childUser = Double(fields[13]),
            let childSystem = Double(fields[14])
        else { return nil }
        return (stat[stat.index(after: nameStart)..<afterName.lowerBound], user, system, childUser + childSystem)
    }

    /// Peak resident set size (VmHWM) of a process, this one by default, in MiB.
    static func peakRSS(pid: String = "self") -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes / 1024
    }
}

/// A results table printed as Markdown, ready for BENCHMARKS.md.
struct ResultTable {
    var title: String
    var header: [String]
    var rows: [[String]] = []

    mutating func add(_ row: [String]) { rows.append(row) }

    func print() {
        Swift.print("\n### \(title)\n")
        Swift.print("| " + header.joined(separator: " | ") + " |")
        Swift.print("|" + header.map { _ in " --- " }.joined(separator: "|") + "|")
        for row in rows { Swift.print("| " + row.joined(separator: " | ") + " |") }
    }
}
