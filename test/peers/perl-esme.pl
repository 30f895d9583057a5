#!/usr/bin/perl
# An ESME on Perl's Net::SMPP, for interop tests. One JSON command per line on stdin, one
# JSON answer per line on stdout ({"id":…, "ok":true, …} or {"id":…, "ok":false, "error":…}).
#
#   bind    {host, port, mode: transceiver|transmitter|receiver, system_id, password, …}
#   submit  {destination_addr, data_coding, text | short_message_hex, udh_hex, tlvs, …}
#   query   {message_id, source_addr_ton, source_addr_npi, source_addr}
#   enquire_link, unbind, close, quit
#   read    {command?, timeout_ms?}   the next inbound request (deliver_sm …) received
#
# Requests go out in Net::SMPP's async mode and this script waits for the response itself:
# in sync mode Net::SMPP's wait_pdu drops every other PDU that arrives meanwhile (a
# deliver_sm racing a submit_sm_resp would be lost). Inbound requests are answered at once
# (deliver_sm with deliver_status, default 0) and queued for `read`.
use strict;
use warnings;
use FindBin;
use lib $FindBin::Bin;
use IO::Select;
use Net::SMPP;
use PerlPeer;
use Time::HiRes qw(time);

$SIG{PIPE} = 'IGNORE';

my $smpp;             # the connection, once `bind` made one
my @inbox;            # inbound requests (as JSON) not yet read
my %responses;        # sequence_number => response PDU not yet claimed
my $deliver_status = 0;
my $default_timeout_ms = 5000;

# Reads one PDU and deals with it: responses are kept for whoever waits, requests are
# answered and queued. Returns false when the connection is gone.
sub pump {
    my $pdu = $smpp->read_pdu();
    if (!$pdu) {
        disconnect();
        return 0;
    }
    my $name = PerlPeer::command_name($pdu->{cmd});
    if ($pdu->{cmd} & 0x80000000) {
        $responses{ $pdu->{seq} } = $pdu;
        return 1;
    }
    if ($name eq 'enquire_link') {
        $smpp->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($name eq 'deliver_sm') {
        $smpp->deliver_sm_resp(seq => $pdu->{seq}, status => $deliver_status, message_id => '');
    } elsif ($name eq 'data_sm') {
        $smpp->data_sm_resp(seq => $pdu->{seq}, status => $deliver_status, message_id => '');
    } elsif ($name eq 'unbind') {
        $smpp->unbind_resp(seq => $pdu->{seq});
    } else {
        $smpp->generic_nack(seq => $pdu->{seq}, status => 0x03);
    }
    push @inbox, PerlPeer::pdu_json($pdu);
    disconnect() if $name eq 'unbind';
    return 1;
}

sub disconnect {
    return if !$smpp;
    close $smpp;
    undef $smpp;
}

# Reads until `$done` holds, or dies after the timeout.
sub wait_until {
    my ($done, $timeout_ms, $what) = @_;
    my $deadline = time + ($timeout_ms // $default_timeout_ms) / 1000;
    until ($done->()) {
        die "connection closed while waiting for $what\n" if !$smpp;
        my $left = $deadline - time;
        die "timed out waiting for $what\n" if $left <= 0;
        pump() if IO::Select->new($smpp)->can_read($left);
    }
}

sub await_response {
    my ($seq, $what, $timeout_ms) = @_;
    die "not connected\n" if !$smpp;
    wait_until(sub { exists $responses{$seq} }, $timeout_ms, "${what}_resp");
    return pdu => PerlPeer::pdu_json(delete $responses{$seq});
}

my %handlers = (
    bind => sub {
        my ($c) = @_;
        die "already connected\n" if $smpp;
        $deliver_status = $c->{deliver_status} // 0;
        my @bind = map { defined $c->{$_} ? ($_ => $c->{$_}) : () }
            qw(system_id password system_type interface_version addr_ton addr_npi address_range);
        $smpp = Net::SMPP->new_connect($c->{host}, port => $c->{port}, async => 1, @bind)
            or die "cannot connect to $c->{host}:$c->{port}: $!\n";
        my $mode = $c->{mode} // 'transceiver';
        die "unknown bind mode $mode\n" if $mode !~ /^(?:transceiver|transmitter|receiver)$/;
        my $method = "bind_$mode";
        return await_response($smpp->$method(), $method, $c->{timeout_ms});
    },
    submit => sub {
        my ($c) = @_;
        die "not connected\n" if !$smpp;
        return await_response($smpp->submit_sm(PerlPeer::sm_args($c)), 'submit_sm', $c->{timeout_ms});
    },
    query => sub {
        my ($c) = @_;
        die "not connected\n" if !$smpp;
        my @query = map { defined $c->{$_} ? ($_ => $c->{$_}) : () }
            qw(message_id source_addr_ton source_addr_npi source_addr);
        return await_response($smpp->query_sm(@query), 'query_sm', $c->{timeout_ms});
    },
    enquire_link => sub {
        my ($c) = @_;
        die "not connected\n" if !$smpp;
        return await_response($smpp->enquire_link(), 'enquire_link', $c->{timeout_ms});
    },
    unbind => sub {
        my ($c) = @_;
        die "not connected\n" if !$smpp;
        my @answer = await_response($smpp->unbind(), 'unbind', $c->{timeout_ms});
        disconnect();
        return @answer;
    },
    read => sub {
        my ($c) = @_;
        my $wanted = $c->{command};
        my $match = sub { !defined $wanted || $_[0]{command} eq $wanted };
        if (!grep { $match->($_) } @inbox) {
            wait_until(sub { grep { $match->($_) } @inbox }, $c->{timeout_ms}, $wanted // 'a request');
        }
        for my $i (0 .. $#inbox) {
            return pdu => splice(@inbox, $i, 1) if $match->($inbox[$i]);
        }
    },
    close => sub {
        disconnect();
        return ();
    },
    quit => sub {
        disconnect();
        PerlPeer::reply($_[0]{id});
        exit 0;
    },
);

while (1) {
    my $select = IO::Select->new(\*STDIN);
    $select->add($smpp) if $smpp;
    for my $ready ($select->can_read()) {
        if (fileno($ready) == fileno(STDIN)) {
            my $commands = PerlPeer::read_commands() // exit 0;
            PerlPeer::dispatch($_, \%handlers) for @$commands;
        } elsif ($smpp) {
            pump();
        }
    }
}
