using Relay.Db;

namespace Relay.Db.Tests;

/// <summary>The one hasher behind the admin login and SMTP AUTH: its format, salt, bounds and refusals.</summary>
public sealed class PasswordHasherTests
{
    [Fact]
    public void A_hash_verifies_its_password_only_and_is_salted()
    {
        var hash = PasswordHasher.Hash("s3cret", 10_000);
        Assert.StartsWith("pbkdf2-sha256$10000$", hash);
        Assert.True(PasswordHasher.Verify("s3cret", hash));
        Assert.False(PasswordHasher.Verify("s3cret ", hash));
        Assert.False(PasswordHasher.Verify("S3cret", hash));
        Assert.False(PasswordHasher.Verify("", hash));
        Assert.NotEqual(hash, PasswordHasher.Hash("s3cret", 10_000));
    }

    [Fact]
    public void The_default_cost_is_600000_iterations_and_a_pasted_trailing_newline_is_harmless()
    {
        var hash = PasswordHasher.Hash("s3cret");
        Assert.StartsWith("pbkdf2-sha256$600000$", hash);
        Assert.True(PasswordHasher.IsWellFormed(hash + "\n", out _));
        Assert.True(PasswordHasher.Verify("s3cret", hash + "\n"));
    }

    [Theory]
    [InlineData(9_999)]
    [InlineData(10_000_001)]
    public void Hashing_outside_the_iteration_bounds_is_refused(int iterations) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PasswordHasher.Hash("s3cret", iterations));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("hunter2")]
    [InlineData("plain:secret")]
    [InlineData("pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]       // below the floor
    [InlineData("pbkdf2-sha256$10000001$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]   // above the ceiling
    [InlineData("pbkdf2-sha256$+10000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha1$10000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("pbkdf2-sha256$10000$not base64!$AAAA")]
    [InlineData("pbkdf2-sha256$10000$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]                            // salt too short
    [InlineData("pbkdf2-sha256$10000$AAAAAAAAAAAAAAAAAAAAAA==$")]                                                   // no hash
    public void Malformed_hashes_never_verify_and_are_reported_without_echoing_the_hash(string? hash)
    {
        Assert.False(PasswordHasher.Verify("anything", hash!));
        Assert.False(PasswordHasher.IsWellFormed(hash, out var problem));
        Assert.NotEmpty(problem);
        if (!string.IsNullOrEmpty(hash))
            Assert.DoesNotContain(hash, problem);
    }
}
