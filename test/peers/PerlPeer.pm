# What the two Net::SMPP peers (perl-esme.pl, perl-smsc.pl) share: the JSON-lines channel
# to the test that drives them, and the translation between Net::SMPP's PDU hashes and
# JSON. Binary values (short_message, TLVs) travel as hex; text is encoded and decoded
# here with Perl's Encode (GSM 03.38, UTF-16BE, Latin-1), so the peer's idea of an
# alphabet is Perl's, not ours.
package PerlPeer;

use strict;
use warnings;
use Encode qw(encode decode);
use Encode::GSM0338;
use IO::Select;
use JSON::PP;
use Net::SMPP;

my $json = JSON::PP->new->utf8->ascii->canonical;
my $stdin_buffer = '';

# Every write to stdout is one JSON line, flushed at once.
$| = 1;

sub emit {
    my (%fields) = @_;
    print $json->encode(\%fields), "\n";
}

sub reply {
    my ($id, %fields) = @_;
    emit(id => $id, ok => JSON::PP::true, %fields);
}

sub fail {
    my ($id, $error) = @_;
    $error =~ s/\s+$//;
    emit(id => $id, ok => JSON::PP::false, error => $error);
}

# Reads what stdin has (the caller selected it as readable) and returns the complete
# command lines, decoded. Returns undef once stdin is closed: the test is gone.
sub read_commands {
    my $n = sysread(STDIN, $stdin_buffer, 65536, length $stdin_buffer);
    return undef if !$n;
    my @commands;
    while ($stdin_buffer =~ s/^([^\n]*)\n//) {
        next if $1 eq '';
        push @commands, $json->decode($1);
    }
    return \@commands;
}

# Runs a command handler, turning a die into a failed answer rather than a dead peer.
sub dispatch {
    my ($command, $handlers) = @_;
    my $id = $command->{id};
    my $handler = $handlers->{ $command->{cmd} // '' };
    if (!$handler) {
        fail($id, "unknown command " . ($command->{cmd} // '(none)'));
        return;
    }
    my @answer = eval { $handler->($command) };
    if ($@) {
        fail($id, $@);
    } else {
        reply($id, @answer);
    }
}

my %skip = map { $_ => 1 } qw(cmd status seq data known_pdu reserved short_message);
# Integer fields, forced to numbers: JSON::PP would print a number once used as a string
# as a string.
my %integer = map { $_ => 1 } qw(interface_version addr_ton addr_npi source_addr_ton
    source_addr_npi dest_addr_ton dest_addr_npi esm_class protocol_id priority_flag
    registered_delivery replace_if_present_flag data_coding sm_default_msg_id message_state
    error_code);

sub command_name {
    my ($cmd) = @_;
    my $known = Net::SMPP::pdu_tab()->{$cmd};
    return $known ? $known->{cmd} : sprintf('0x%08x', $cmd);
}

# A Net::SMPP::PDU as JSON: header, mandatory fields as Net::SMPP named them, TLVs by
# name (or numeric tag) in hex, and short_message in hex with the text it decodes to.
sub pdu_json {
    my ($pdu) = @_;
    my %out = (
        command => command_name($pdu->{cmd}),
        command_id => $pdu->{cmd} + 0,
        command_status => $pdu->{status} + 0,
        sequence_number => $pdu->{seq} + 0,
    );
    # Net::SMPP stores each TLV twice, by numeric tag and by name; the name may also be
    # that of a mandatory field (message_state of query_sm_resp), so only names of TLVs
    # this PDU carries are left out.
    my %tlv_names = map { $_ => 1 } grep { defined } map { Net::SMPP::param_tab()->{$_}{name} }
        grep { /^\d+$/ && Net::SMPP::param_tab()->{$_} } keys %$pdu;
    my %tlvs;
    for my $key (keys %$pdu) {
        next if $skip{$key} || $tlv_names{$key};
        my $value = $pdu->{$key};
        if ($key =~ /^\d+$/) {
            my $spec = Net::SMPP::param_tab()->{$key};
            $tlvs{ $spec ? $spec->{name} : $key } = unpack('H*', $value);
        } else {
            $out{$key} = $integer{$key} && defined $value ? $value + 0 : $value;
        }
    }
    $out{tlvs} = \%tlvs;
    if (defined $pdu->{short_message}) {
        my $bytes = $pdu->{short_message};
        $out{short_message_hex} = unpack('H*', $bytes);
        my $body = $bytes;
        if (($pdu->{esm_class} // 0) & 0x40 && length $bytes) {
            my $udh_length = ord(substr($bytes, 0, 1)) + 1;
            $out{udh_hex} = unpack('H*', substr($bytes, 0, $udh_length));
            $body = substr($bytes, $udh_length);
        }
        my $text = decode_text($pdu->{data_coding} // 0, $body);
        $out{text} = $text if defined $text;
    }
    return \%out;
}

# The alphabet a data_coding names, as Encode calls it (undef: leave the bytes alone).
sub encoding_of {
    my ($data_coding) = @_;
    return 'gsm0338' if $data_coding == 0;
    return 'ascii' if $data_coding == 1;
    return 'iso-8859-1' if $data_coding == 3;
    return 'UTF-16BE' if $data_coding == 8;
    return undef;
}

sub decode_text {
    my ($data_coding, $bytes) = @_;
    my $encoding = encoding_of($data_coding);
    return undef if !defined $encoding;
    return eval { decode($encoding, $bytes, Encode::FB_CROAK | Encode::LEAVE_SRC) };
}

# short_message from a command: hex bytes, or text in the alphabet of data_coding;
# a UDH (hex) goes first.
sub message_bytes {
    my ($args) = @_;
    my $body;
    if (defined $args->{short_message_hex}) {
        $body = pack('H*', $args->{short_message_hex});
    } elsif (defined $args->{text}) {
        my $encoding = encoding_of($args->{data_coding} // 0)
            or die "no text encoding for data_coding $args->{data_coding}\n";
        $body = encode($encoding, $args->{text}, Encode::FB_CROAK | Encode::LEAVE_SRC);
    } else {
        $body = '';
    }
    return defined $args->{udh_hex} ? pack('H*', $args->{udh_hex}) . $body : $body;
}

# TLVs from a command: [[name, hex], ...] in the order given. Net::SMPP writes a named
# TLV's value as it is, so integers and C-octet strings arrive here already packed.
sub tlv_list {
    my ($args) = @_;
    return map { ($_->[0], pack('H*', $_->[1])) } @{ $args->{tlvs} // [] };
}

# Submit/deliver fields of a command that Net::SMPP takes by the same names.
my @sm_fields = qw(service_type source_addr_ton source_addr_npi source_addr dest_addr_ton
    dest_addr_npi destination_addr esm_class protocol_id priority_flag schedule_delivery_time
    validity_period registered_delivery replace_if_present_flag data_coding sm_default_msg_id);

sub sm_args {
    my ($args) = @_;
    my @out = map { defined $args->{$_} ? ($_ => $args->{$_}) : () } @sm_fields;
    return (@out, short_message => message_bytes($args), tlv_list($args));
}

1;
