/// The copy itself, between a reader and a writer of either kind: check both catalogues, refuse a target with rows,
/// copy table by table in foreign-key order, carry the identities over, then check counts and trigger-kept columns.
struct TableCopier {
    let reader: any CopyReader
    let writer: any CopyWriter
    let progress: @Sendable (String) -> Void

    /// A table's columns on both sides: what is read from the source and where it goes in the target.
    struct Plan {
        var table: CopiedTable
        var source: [CopyColumn]
        var target: [CopyColumn]
    }

    func run() async throws -> DatabaseCopyReport {
        try await checkTables()
        try await refuseRows()
        var plans: [Plan] = []
        for table in CopiedTable.all { plans.append(try await plan(table)) }
        try await writer.startBulkLoad()
        for plan in plans {
            let copied: Int
            if plan.table.parentColumn == nil { copied = try await copyRows(plan) } else { copied = try await copyTree(plan) }
            progress("  \(plan.table.name): \(copied) rows")
        }
        try await writer.finishBulkLoad()
        for table in CopiedTable.all { try await writer.advanceIdentity(table, past: try await reader.identityHighWater(table)) }
        let report = try await checkCounts()
        for table in CopiedTable.all where !table.derivedColumns.isEmpty { try await checkDerived(table) }
        progress("Checked: every table has the source's rows; org paths and counts below each manager match.")
        return report
    }

    // MARK: - Before

    /// Both sides hold exactly the tables this copier knows, apart from each database's own bookkeeping.
    private func checkTables() async throws {
        let known = Set(CopiedTable.all.map(\.key))
        for (side, tables) in [("source", try await reader.tables()), ("target", try await writer.tables())] {
            if let missing = CopiedTable.all.first(where: { !tables.contains($0.key) }) {
                throw DatabaseCopyError.missingTable(missing.name, side: side)
            }
            // A table only the target has would stay empty, which is harmless; one only the source has would be lost.
            let unknown = tables.subtracting(known).subtracting(CopiedTable.bookkeeping)
            if side == "source", !unknown.isEmpty { throw DatabaseCopyError.unknownTables(unknown.sorted(), side: side) }
        }
    }

    private func refuseRows() async throws {
        var filled: [DatabaseCopyError.TableCount] = []
        for table in CopiedTable.all {
            let rows = try await writer.count(table)
            if rows > 0 { filled.append(.init(table: table.name, rows: rows)) }
        }
        guard filled.isEmpty else { throw DatabaseCopyError.targetNotEmpty(filled) }
    }

    /// The source's columns that have a place in the target, trigger-kept ones left to the target's triggers.
    private func plan(_ table: CopiedTable) async throws -> Plan {
        let targetColumns = Dictionary(uniqueKeysWithValues: try await writer.columns(of: table).map { ($0.key, $0) })
        let derived = Set(table.derivedColumns.map { $0.lowercased() })
        let transient = Set(table.transientColumns.map { $0.lowercased() })
        var plan = Plan(table: table, source: [], target: [])
        for column in try await reader.columns(of: table) where !derived.contains(column.key) {
            guard let target = targetColumns[column.key] else {
                if transient.contains(column.key) { continue }
                throw DatabaseCopyError.columnNotInTarget(table: table.name, column: column.name)
            }
            plan.source.append(column)
            plan.target.append(target)
        }
        return plan
    }

    // MARK: - Copying

    /// Rows per INSERT: PostgreSQL takes at most 65535 parameters in one statement.
    private func batchSize(_ plan: Plan) -> Int { max(1, min(1000, 30_000 / max(1, plan.source.count))) }

    private func convert(_ row: [CopyValue], _ plan: Plan) throws -> [CopyValue] {
        var converted: [CopyValue] = []
        converted.reserveCapacity(row.count)
        for (index, value) in row.enumerated() {
            do {
                converted.append(try value.converted(to: plan.target[index].kind))
            } catch {
                throw DatabaseCopyError.unconvertible(
                    table: plan.table.name, column: plan.source[index].name, value: value.description, type: plan.target[index].typeName)
            }
        }
        return converted
    }

    private func copyRows(_ plan: Plan) async throws -> Int {
        var copied = 0
        try await reader.forEachBatch(of: plan.table, columns: plan.source, batchSize: batchSize(plan)) { rows in
            try await writer.insert(try rows.map { try convert($0, plan) }, into: plan.table, columns: plan.target)
            copied += rows.count
        }
        return copied
    }

    /// A table whose rows point at each other (employees at their managers, topics at their parents): inserted a
    /// generation at a time, each row after the one it points at, as the foreign key wants, and so that SQLite's insert
    /// triggers work out each org path and count once (PostgreSQL works them all out at `finishBulkLoad`). Inserting
    /// everyone without a manager and then setting managers would run the move trigger per person. Rows on a cycle,
    /// which no order can satisfy, go in without their parent and get it afterwards.
    private func copyTree(_ plan: Plan) async throws -> Int {
        guard let parentName = plan.table.parentColumn?.lowercased(),
            let parentIndex = plan.source.firstIndex(where: { $0.key == parentName }),
            let idIndex = plan.source.firstIndex(where: { $0.key == "id" })
        else { return try await copyRows(plan) }
        var rows: [[CopyValue]] = []
        try await reader.forEachBatch(of: plan.table, columns: plan.source, batchSize: batchSize(plan)) { batch in
            rows += try batch.map { try convert($0, plan) }
        }
        func id(_ value: CopyValue) -> Int64? {
            if case .integer(let id) = value { id } else { nil }
        }
        let ids = Set(rows.compactMap { id($0[idIndex]) })
        var children: [Int64: [Int]] = [:]
        var generation: [Int] = []
        for (index, row) in rows.enumerated() {
            if let parent = id(row[parentIndex]), ids.contains(parent) {
                children[parent, default: []].append(index)
            } else {
                generation.append(index)
            }
        }
        var inserted = Set<Int>()
        while !generation.isEmpty {
            for start in stride(from: 0, to: generation.count, by: batchSize(plan)) {
                let slice = generation[start..<min(start + batchSize(plan), generation.count)]
                try await writer.insert(slice.map { rows[$0] }, into: plan.table, columns: plan.target)
            }
            inserted.formUnion(generation)
            generation = generation.flatMap { index in id(rows[index][idIndex]).flatMap { children[$0] } ?? [] }
        }
        let cycle = rows.indices.filter { !inserted.contains($0) }
        if !cycle.isEmpty {
            try await writer.insert(
                cycle.map { index in
                    var row = rows[index]
                    row[parentIndex] = .null
                    return row
                }, into: plan.table, columns: plan.target)
            for index in cycle {
                guard let rowID = id(rows[index][idIndex]) else { continue }
                try await writer.update(plan.table, set: plan.target[parentIndex], to: rows[index][parentIndex], id: rowID)
            }
        }
        return rows.count
    }

    // MARK: - After

    private func checkCounts() async throws -> DatabaseCopyReport {
        var report = DatabaseCopyReport(tables: [])
        var mismatches: [DatabaseCopyError.CountMismatch] = []
        for table in CopiedTable.all {
            let source = try await reader.count(table)
            let target = try await writer.count(table)
            if source != target { mismatches.append(.init(table: table.name, source: source, target: target)) }
            report.tables.append(.init(table: table.name, rows: target))
        }
        guard mismatches.isEmpty else { throw DatabaseCopyError.countMismatch(mismatches) }
        return report
    }

    /// The columns the target's triggers worked out equal the source's, row for row. Only columns both sides have are
    /// compared: SQLite keeps no `aliases` column.
    private func checkDerived(_ table: CopiedTable) async throws {
        let sourceColumns = try await reader.columns(of: table)
        let targetColumns = try await writer.columns(of: table)
        let keys = ["id"] + table.derivedColumns.map { $0.lowercased() }
        let shared = keys.filter { key in sourceColumns.contains { $0.key == key } && targetColumns.contains { $0.key == key } }
        guard shared.count > 1, shared[0] == "id" else { return }
        let source = shared.compactMap { key in sourceColumns.first { $0.key == key } }
        let target = shared.compactMap { key in targetColumns.first { $0.key == key } }
        var expected: [Int64: [CopyValue]] = [:]
        try await reader.forEachBatch(of: table, columns: source, batchSize: 5000) { rows in
            for row in rows {
                guard case .integer(let id) = row[0] else { continue }
                expected[id] = try row.indices.map { try row[$0].converted(to: target[$0].kind) }
            }
        }
        try await writer.forEachBatch(of: table, columns: target, batchSize: 5000) { rows in
            for row in rows {
                guard case .integer(let id) = row[0], let want = expected[id] else { continue }
                for index in 1..<row.count where want[index] != row[index] {
                    throw DatabaseCopyError.derivedMismatch(
                        table: table.name, column: source[index].name, id: String(id), source: want[index].description,
                        target: row[index].description)
                }
            }
        }
    }
}
