using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Relay.Db.Web;

namespace Relay.Web.Auth;

/// <summary>
/// ASP.NET Core Data Protection's key storage in PostgreSQL, so every web process on the database (and the same
/// process after a restart) opens the auth cookies and anti-forgery tokens the others issued. Written over Npgsql:
/// the only packaged store for PostgreSQL goes through Entity Framework Core, which Relay does not otherwise use.
/// </summary>
public sealed class PostgresXmlRepository(DataProtectionKeyStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => store.All().Select(xml => XElement.Parse(xml)).ToList();

    public void StoreElement(XElement element, string friendlyName) =>
        store.Add(friendlyName, element.ToString(SaveOptions.DisableFormatting));

    /// <summary>
    /// Makes sure a key usable now exists before the first request, under a database-wide lock: web processes starting
    /// together on an empty key ring would otherwise each make their own key and refuse each other's cookies until
    /// their key rings next refresh.
    /// </summary>
    public static void EnsureKey(IServiceProvider services, DataProtectionKeyStore store)
    {
        var keys = (IKeyManager)services.GetService(typeof(IKeyManager))!;
        var lifetime = ((Microsoft.Extensions.Options.IOptions<KeyManagementOptions>)services.GetService(typeof(Microsoft.Extensions.Options.IOptions<KeyManagementOptions>))!)
            .Value.NewKeyLifetime;
        store.WithKeyCreationLock(() =>
        {
            var now = DateTimeOffset.UtcNow;   // Data Protection's own clock, not the UI's (tests move that one)
            if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now + TimeSpan.FromDays(2)))
                keys.CreateNewKey(now, now + lifetime);
        });
    }
}
