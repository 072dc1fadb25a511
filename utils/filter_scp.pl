#!/usr/bin/env perl
# Prints the lines of a table whose first field is listed (first field) in
# id_list; with --exclude, those whose first field is not listed.
#   filter_scp.pl [--exclude] id_list in.scp > out.scp
use strict;
use warnings;
my $exclude = 0;
if (@ARGV && $ARGV[0] eq '--exclude') { $exclude = 1; shift @ARGV; }
@ARGV == 1 || @ARGV == 2 or die "Usage: filter_scp.pl [--exclude] id_list [in.scp] > out.scp\n";
my $list = shift @ARGV;
open(my $fh, '<', $list) or die "filter_scp.pl: cannot read $list: $!\n";
my %keep;
while (my $l = <$fh>) { my ($id) = split(' ', $l); $keep{$id} = 1 if defined $id; }
close $fh;
while (my $line = <>) {
  my ($id) = split(' ', $line);
  next unless defined $id;
  print $line if ($keep{$id} xor $exclude);
}
