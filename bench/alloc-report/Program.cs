// Sums a gc-verbose trace's GCAllocationTick events (one every ~100 KB allocated, with the type and stack of the
// allocation that crossed the mark) by type and by the innermost managed frames, as shares of all sampled bytes.
//   dotnet run -c Release --project bench/alloc-report -- relay.nettrace [FRAMES] [TOP]
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

if (args.Length is < 1 or > 3 || !File.Exists(args[0]))
{
    Console.Error.WriteLine("usage: alloc-report TRACE.nettrace [FRAMES (6)] [TOP (30)]");
    return 2;
}
var frames = args.Length > 1 && int.TryParse(args[1], out var f) && f > 0 ? f : 6;
var top = args.Length > 2 && int.TryParse(args[2], out var t) && t > 0 ? t : 30;

using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
long total = 0;
foreach (var e in log.Events)
{
    if (e is not GCAllocationTickTraceData tick) continue;
    total += tick.AllocationAmount64;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + tick.AllocationAmount64;
    var names = new List<string>();
    for (var s = e.CallStack(); s is not null && names.Count < frames; s = s.Caller)
        if (s.CodeAddress.FullMethodName is { Length: > 0 } name) names.Add(name.Length > 110 ? name[..110] : name);
    var key = tick.TypeName + " <= " + string.Join(" <= ", names);
    byStack[key] = byStack.GetValueOrDefault(key) + tick.AllocationAmount64;
}
if (total == 0)
{
    Console.Error.WriteLine($"{args[0]}: no allocation ticks (collect with --profile gc-verbose)");
    return 1;
}
Console.WriteLine($"sampled allocations: {total / 1e6:0.0} MB");
foreach (var (type, bytes) in byType.OrderByDescending(x => x.Value).Take(top)) Console.WriteLine($"{bytes * 100.0 / total,6:0.0}%  {type}");
Console.WriteLine("== by stack");
foreach (var (stack, bytes) in byStack.OrderByDescending(x => x.Value).Take(top)) Console.WriteLine($"{bytes * 100.0 / total,6:0.0}%  {stack}");
return 0;
