using Microsoft.AspNetCore.Http;
using Relay.Db;

namespace Relay.Web.Pages;

/// <summary>Query-string filters shared by the pages and the JSON API. Unknown values mean "no filter", never an error page.</summary>
public static class Filters
{
    public static readonly IReadOnlyList<(string Key, string Label, TimeSpan Span)> Periods =
        [("hour", "last hour", TimeSpan.FromHours(1)), ("day", "last day", TimeSpan.FromDays(1)), ("week", "last week", TimeSpan.FromDays(7))];

    public static TimeSpan? Within(string? key) => Periods.FirstOrDefault(p => p.Key == key) is { Key: not null } p ? p.Span : null;

    public static string? Transport(string? word) => Vocabulary.IsTransport(word) ? word : null;

    public static string? State(string? word) => word is not null && Vocabulary.RecipientStates.Contains(word) ? word : null;

    public static PeerSort Sort(string? key) => key switch
    {
        "last-seen" => PeerSort.LastSeenNewest,
        "weakest" => PeerSort.WeakestFirst,
        _ => PeerSort.Domain,
    };

    public static PeerFilter Peers(IQueryCollection query) => new(
        Search: query["q"].FirstOrDefault() is { Length: > 0 and <= 255 } q ? q : null,
        Transport: Transport(query["transport"].FirstOrDefault()),
        Within: Within(query["within"].FirstOrDefault()),
        DowngradedOnly: query["downgraded"].FirstOrDefault() is "1" or "on" or "true",
        Sort: Sort(query["sort"].FirstOrDefault()));

    public static InboundFilter Inbound(IQueryCollection query) =>
        new(Transport(query["transport"].FirstOrDefault()), Within(query["within"].FirstOrDefault()));
}
